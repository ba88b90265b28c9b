import { ipcMain, webContents, type IpcMainEvent, type IpcMainInvokeEvent, type WebContents } from 'electron';
import type { StreamFrame } from '../../common/api.ts';
import { IPC_CHANNELS } from '../../common/contract/channels.ts';
import type { Caller } from '../../common/handlers.ts';
import { callerFromFrame, isTrustedCaller } from '../security/policy.ts';
import type { ServerTransport } from './transport.ts';

function callerOf(event: IpcMainEvent | IpcMainInvokeEvent): Caller {
  const frame = event.senderFrame;
  if (frame === null || frame.isDestroyed()) return { origin: 'null', isMainFrame: false };
  return callerFromFrame(frame.url, frame.parent === null);
}

interface StreamRequest {
  readonly name: string;
  readonly input: unknown;
}

function isStreamRequest(value: unknown): value is StreamRequest {
  return typeof value === 'object' && value !== null && typeof (value as { name?: unknown }).name === 'string';
}

/** Electron IPC: invoke for rpc, one MessagePort per stream, `send` for broadcasts. */
export function createElectronTransport(trustedOrigins: readonly string[]): ServerTransport {
  const streamsByContents = new Map<number, Set<AbortController>>();
  const watched = new WeakSet<WebContents>();

  const abortAll = (id: number) => {
    for (const controller of streamsByContents.get(id) ?? []) controller.abort();
    streamsByContents.delete(id);
  };

  // A reload or a destroyed window ends every stream it started.
  const watch = (contents: WebContents) => {
    if (watched.has(contents)) return;
    watched.add(contents);
    const id = contents.id;
    contents.on('destroyed', () => abortAll(id));
    contents.on('render-process-gone', () => abortAll(id));
    contents.on('did-start-navigation', (details) => {
      if (details.isMainFrame && !details.isSameDocument) abortAll(id);
    });
  };

  return {
    listen(router) {
      ipcMain.handle(IPC_CHANNELS.rpc, (event, name: unknown, input: unknown) => router.call(callerOf(event), String(name), input));

      const onStream = (event: IpcMainEvent, request: unknown) => {
        const port = event.ports[0];
        if (port === undefined) return;
        if (!isStreamRequest(request)) {
          port.postMessage({ type: 'error', error: { code: 'bad_request', message: 'The request was malformed.' } } satisfies StreamFrame<never>);
          port.close();
          return;
        }
        const contents = event.sender;
        watch(contents);
        const controller = new AbortController();
        let set = streamsByContents.get(contents.id);
        if (set === undefined) streamsByContents.set(contents.id, (set = new Set()));
        set.add(controller);
        port.on('close', () => controller.abort());
        port.start();
        void router
          .stream(callerOf(event), request.name, request.input, (frame) => port.postMessage(frame), controller.signal)
          .finally(() => {
            set.delete(controller);
            port.close();
          });
      };
      ipcMain.on(IPC_CHANNELS.stream, onStream);

      return () => {
        ipcMain.removeHandler(IPC_CHANNELS.rpc);
        ipcMain.removeListener(IPC_CHANNELS.stream, onStream);
        for (const id of [...streamsByContents.keys()]) abortAll(id);
      };
    },

    broadcast(name, payload) {
      for (const contents of webContents.getAllWebContents()) {
        if (contents.isDestroyed()) continue;
        if (isTrustedCaller(callerFromFrame(contents.getURL(), true), trustedOrigins)) contents.send(IPC_CHANNELS.event, name, payload);
      }
    },
  };
}
