/// <reference lib="dom" />
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import { buildApi, type Bridge, type StreamFrame } from '../common/api.ts';
import { IPC_CHANNELS } from '../common/contract/channels.ts';
import { endpointKinds } from '../common/contract/endpoints.ts';

// The sandboxed preload exposes exactly one function per contract endpoint as
// `window.api`, and never `ipcRenderer` itself. Validation happens in the main process.

const eventListeners = new Map<string, Set<(payload: unknown) => void>>();
ipcRenderer.on(IPC_CHANNELS.event, (_event, name: string, payload: unknown) => {
  for (const listener of eventListeners.get(name) ?? []) listener(payload);
});

const bridge: Bridge = {
  call: (name, input) => ipcRenderer.invoke(IPC_CHANNELS.rpc, name, input),
  stream(name, input, onFrame) {
    const { port1, port2 } = new MessageChannel();
    let finished = false;
    port1.onmessage = (message: MessageEvent<StreamFrame<unknown>>) => {
      if (finished) return;
      if (message.data.type !== 'event') {
        finished = true;
        port1.close();
      }
      onFrame(message.data);
    };
    ipcRenderer.postMessage(IPC_CHANNELS.stream, { name, input }, [port2]);
    return () => {
      finished = true;
      port1.close(); // the main process sees the port close and aborts the stream
    };
  },
  subscribe(name, listener) {
    let set = eventListeners.get(name);
    if (set === undefined) eventListeners.set(name, (set = new Set()));
    set.add(listener);
    return () => void set.delete(listener);
  },
};

contextBridge.exposeInMainWorld('api', buildApi(endpointKinds, bridge));

// Dropped files' paths are visible only here. They go to the main process directly, so the
// page never handles a path: the main process keeps them under a token for this one drop and
// announces it with `files.dropped`; the page passes that token to `models.scan` or `knowledge.add`.
window.addEventListener(
  'drop',
  (event) => {
    const files = [...(event.dataTransfer?.files ?? [])];
    const paths = files.map((file) => webUtils.getPathForFile(file)).filter((filePath) => filePath !== '');
    if (paths.length > 0) ipcRenderer.send(IPC_CHANNELS.dropped, paths);
  },
  true,
);
