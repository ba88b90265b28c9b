// The inference process talks to its parent over whichever channel started it:
// Electron's utilityProcess gives `process.parentPort`; child_process.fork gives
// `process.send`. Both carry structured-cloneable values.

export interface ParentPort {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

interface ElectronParentPort {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): void;
}

export function connectToParent(): ParentPort {
  const electronPort = (process as unknown as { parentPort?: ElectronParentPort }).parentPort;
  if (electronPort !== undefined) {
    return {
      post: (message) => electronPort.postMessage(message),
      onMessage: (listener) => electronPort.on('message', (event) => listener(event.data)),
    };
  }
  if (typeof process.send === 'function') {
    return {
      post: (message) => void process.send?.(message),
      onMessage: (listener) => void process.on('message', listener),
    };
  }
  throw new Error('The inference process must be started by Soberana (no parent channel).');
}
