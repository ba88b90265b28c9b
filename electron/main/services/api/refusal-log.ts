import type { Emit } from '../domain/events.ts';
import type { ApiRequestInfo } from './types.ts';

// Refusals are recorded, but a web page in the user's browser can send requests to the
// loopback port as fast as it likes (it cannot read the answers, but each refusal would be a
// signed, fsync'd audit record written on the main process). So each minute the first
// REFUSALS_PER_WINDOW refusals are recorded one by one, and the rest as one summary record
// with their count: the log keeps the evidence, and a flood cannot freeze the app or fill
// the disk.

export const REFUSAL_WINDOW_MS = 60_000;
export const REFUSALS_PER_WINDOW = 30;

export interface RefusalLog {
  record(info: Pick<ApiRequestInfo, 'endpoint'>, status: number, reason: string, token: string | null): void;
  /** Writes the summary of refusals not yet recorded one by one (at stop). */
  flush(): void;
}

interface Window {
  readonly start: number;
  recorded: number;
  omitted: number;
  /** The most recent omitted refusal: the summary names it as an example. */
  example: { endpoint: string; status: number } | null;
}

const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

export function createRefusalLog(emit: Emit, now: () => number = Date.now): RefusalLog {
  let window: Window | null = null;
  let timer: NodeJS.Timeout | null = null;

  const write = (endpoint: string, status: number, reason: string, token: string | null, omitted?: number) =>
    emit({
      type: 'api.refused',
      data: {
        token: token === null || token === '' ? null : clip(token, 100),
        endpoint: clip(endpoint === '' ? '?' : endpoint, 200),
        status,
        reason: clip(reason === '' ? 'refused' : reason, 2000),
        ...(omitted === undefined ? {} : { omitted }),
      },
    });

  const flush = () => {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    const ended = window;
    window = null;
    if (ended === null || ended.omitted === 0 || ended.example === null) return;
    write(
      ended.example.endpoint,
      ended.example.status,
      `${ended.omitted} more refusal${ended.omitted === 1 ? ' was' : 's were'} not recorded one by one: more than ${REFUSALS_PER_WINDOW} requests were refused within a minute from ${new Date(ended.start).toISOString()}. The last one is named here.`,
      null,
      ended.omitted,
    );
  };

  return {
    record(info, status, reason, token) {
      const at = now();
      if (window !== null && at - window.start >= REFUSAL_WINDOW_MS) flush();
      window ??= { start: at, recorded: 0, omitted: 0, example: null };
      if (window.recorded < REFUSALS_PER_WINDOW) {
        window.recorded += 1;
        write(info.endpoint, status, reason, token);
        return;
      }
      window.omitted += 1;
      window.example = { endpoint: info.endpoint, status };
      // The summary is written when the minute ends even if no request comes after it.
      if (timer === null) {
        timer = setTimeout(flush, Math.max(0, window.start + REFUSAL_WINDOW_MS - at));
        timer.unref();
      }
    },
    flush,
  };
}
