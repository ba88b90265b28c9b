import { dialog, utilityProcess, type BrowserWindow } from 'electron';
import type { FilePicker } from './services/files.ts';
import type { RuntimeLauncher } from './services/runtime/launcher.ts';

// Electron's implementations of the services' platform ports.

/** The inference process as an Electron utility process: no Node in the renderer, no window. */
export function utilityLauncher(entry: string): RuntimeLauncher {
  return () => {
    const child = utilityProcess.fork(entry, [], { serviceName: 'Soberana inference', stdio: 'inherit' });
    return {
      get pid() {
        return child.pid;
      },
      send: (message) => child.postMessage(message),
      kill: () => void child.kill(),
      onMessage: (listener) => void child.on('message', listener),
      // Electron reports the exit code only.
      onExit: (listener) => void child.once('exit', (code) => listener({ code, signal: null })),
    };
  };
}

export function dialogPicker(window: () => BrowserWindow | null): FilePicker {
  return {
    async pickModelFile() {
      const options = {
        title: 'Choose a GGUF model',
        properties: ['openFile' as const],
        filters: [
          { name: 'GGUF models', extensions: ['gguf'] },
          { name: 'All files', extensions: ['*'] },
        ],
      };
      const owner = window();
      const result = owner === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(owner, options);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
  };
}
