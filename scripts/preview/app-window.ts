import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { QUIET_CHROMIUM_ARGS } from '../../e2e/browser.ts';

// `npm run preview`'s window: the system's Chromium in app mode (no tabs, no address bar),
// driven over --remote-debugging-pipe, a pair of file descriptors only this process holds,
// so no debugging port is opened. Through it the page gets `window.api` (the e2e harness's
// loopback bridge) before any of the app's scripts run, exactly as Playwright's addInitScript
// does in the e2e tests, and the window can be screenshotted and closed cleanly.

export interface AppWindowOptions {
  readonly chromium: string;
  readonly url: string;
  /** Runs in the page before the app (the harness's bridge, which defines window.api). */
  readonly initScript: string;
  /** A throwaway profile folder: nothing of the user's own browser is touched. */
  readonly profileDir: string;
  readonly headless?: boolean;
  readonly width?: number;
  readonly height?: number;
}

/**
 * Pure: the command line. App mode needs the page's own address (with about:blank Chromium opens
 * an ordinary browser window), so the first load runs without window.api; openAppWindow reloads
 * the page once the bridge is in place.
 */
export function appWindowArgs(options: Pick<AppWindowOptions, 'url' | 'profileDir' | 'headless' | 'width' | 'height'>, isRoot: boolean): string[] {
  return [
    ...QUIET_CHROMIUM_ARGS,
    `--user-data-dir=${options.profileDir}`,
    '--remote-debugging-pipe',
    `--window-size=${options.width ?? 1280},${options.height ?? 820}`,
    '--no-default-browser-check',
    '--password-store=basic',
    // Chromium refuses to start as root with its sandbox (containers, CI); Playwright passes the same,
    // and --test-type keeps Chromium from covering the app with a bar warning about it.
    ...(isRoot ? ['--no-sandbox', '--test-type'] : []),
    ...(options.headless === true ? ['--headless=new', '--hide-scrollbars'] : []),
    `--app=${options.url}`,
  ];
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

/** The DevTools protocol over Chromium's pipe: JSON messages, each ended by a NUL byte. */
export class CdpPipe {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private buffer = '';
  private readonly output: Writable;

  constructor(output: Writable, input: Readable) {
    this.output = output;
    input.setEncoding('utf8');
    input.on('data', (chunk: string) => {
      this.buffer += chunk;
      let end;
      while ((end = this.buffer.indexOf('\0')) !== -1) {
        const message = JSON.parse(this.buffer.slice(0, end)) as { id?: number; result?: unknown; error?: { message: string } };
        this.buffer = this.buffer.slice(end + 1);
        if (message.id === undefined) continue;
        const waiting = this.pending.get(message.id);
        this.pending.delete(message.id);
        if (message.error !== undefined) waiting?.reject(new Error(message.error.message));
        else waiting?.resolve(message.result);
      }
    });
    input.on('close', () => {
      for (const waiting of this.pending.values()) waiting.reject(new Error('Chromium closed the DevTools pipe'));
      this.pending.clear();
    });
    // Writing after Chromium has gone is expected at shutdown; the pending calls are rejected above.
    output.on('error', () => undefined);
  }

  send<T = Record<string, unknown>>(method: string, params: Record<string, unknown> = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.output.write(`${JSON.stringify({ id, method, params, ...(sessionId === undefined ? {} : { sessionId }) })}\0`);
    });
  }
}

export interface AppWindow {
  readonly process: ChildProcess;
  /** Resolves when Chromium has exited, whoever closed it. */
  readonly exited: Promise<void>;
  screenshot(): Promise<Buffer>;
  /** Evaluates an expression in the page and returns its value (for the preview's own checks). */
  evaluate(expression: string): Promise<unknown>;
  close(): Promise<void>;
}

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function openAppWindow(options: AppWindowOptions): Promise<AppWindow> {
  const child = spawn(options.chromium, appWindowArgs(options, process.getuid?.() === 0), {
    // fd 3: what Chromium reads (our commands); fd 4: what it writes (replies).
    stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // Chromium's own chatter (GPU, D-Bus warnings) is noise here; only shown with PREVIEW_VERBOSE.
  child.stderr?.on('data', (chunk: Buffer) => {
    if (process.env.PREVIEW_VERBOSE !== undefined) process.stderr.write(chunk);
  });
  const cdp = new CdpPipe(child.stdio[3] as Writable, child.stdio[4] as Readable);

  // The app window's page target appears shortly after start.
  let targetId: string | undefined;
  for (let attempt = 0; attempt < 100 && targetId === undefined; attempt += 1) {
    const { targetInfos } = await cdp.send<{ targetInfos: { targetId: string; type: string }[] }>('Target.getTargets');
    targetId = targetInfos.find((target) => target.type === 'page')?.targetId;
    if (targetId === undefined) await delay(100);
  }
  if (targetId === undefined) {
    child.kill();
    throw new Error('Chromium started but opened no window');
  }
  const { sessionId } = await cdp.send<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
  await cdp.send('Page.enable', {}, sessionId);
  await cdp.send('Page.addScriptToEvaluateOnNewDocument', { source: options.initScript }, sessionId);
  await cdp.send('Page.reload', { ignoreCache: true }, sessionId);

  return {
    process: child,
    exited,
    async screenshot() {
      const { data } = await cdp.send<{ data: string }>('Page.captureScreenshot', { format: 'png' }, sessionId);
      return Buffer.from(data, 'base64');
    },
    async evaluate(expression) {
      const { result } = await cdp.send<{ result: { value?: unknown } }>(
        'Runtime.evaluate',
        { expression, awaitPromise: true, returnByValue: true },
        sessionId,
      );
      return result.value;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      // Browser.close lets Chromium shut down its profile cleanly; a kill is the fallback.
      await Promise.race([cdp.send('Browser.close').catch(() => undefined), delay(5_000)]);
      await Promise.race([exited, delay(5_000)]);
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}
