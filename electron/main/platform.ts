import { dialog, utilityProcess, type BrowserWindow } from 'electron';
import path from 'node:path';
import { writeFileAtomic } from './services/atomic-file.ts';
import type { DropTokens, FilePicker } from './services/files.ts';
import type { RuntimeLauncher } from './services/inference/launcher.ts';

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

const MODEL_FILTERS = [
  { name: 'GGUF models', extensions: ['gguf'] },
  { name: 'All files', extensions: ['*'] },
];

const DOCUMENT_FILTERS = [
  {
    name: 'Documents',
    extensions: ['pdf', 'docx', 'html', 'htm', 'md', 'markdown', 'txt', 'csv', 'xlsx', 'ods', 'pptx', 'odt', 'epub', 'png', 'jpg', 'jpeg', 'tif', 'tiff'],
  },
  { name: 'All files', extensions: ['*'] },
];

/**
 * Called with the paths the preload read from a drop on a trusted window: keeps them under
 * a new token, returned for `files.dropped`; null when the message is not a list of paths.
 */
export function acceptDroppedFiles(drops: DropTokens, paths: unknown): string | null {
  if (Array.isArray(paths) && paths.length > 0 && paths.length <= 10_000 && paths.every((item) => typeof item === 'string')) return drops.add(paths);
  return null;
}

export function dialogPicker(window: () => BrowserWindow | null, drops: DropTokens): FilePicker {
  const show = async (options: Electron.OpenDialogOptions): Promise<string[]> => {
    const owner = window();
    const result = owner === null ? await dialog.showOpenDialog(options) : await dialog.showOpenDialog(owner, options);
    return result.canceled ? [] : result.filePaths;
  };
  return {
    pickModelFile: async () => (await show({ title: 'Choose a GGUF model', properties: ['openFile'], filters: MODEL_FILTERS }))[0] ?? null,
    pickImportFiles: () => show({ title: 'Import models', properties: ['openFile', 'multiSelections'], filters: MODEL_FILTERS }),
    pickDocuments: () => show({ title: 'Add documents', properties: ['openFile', 'multiSelections'], filters: DOCUMENT_FILTERS }),
    pickFolder: async () => (await show({ title: 'Import models from a folder', properties: ['openDirectory'] }))[0] ?? null,
    droppedFiles: async (dropToken) => drops.take(dropToken),
    pickOpenFile: async (title, extensions) =>
      (
        await show({
          title,
          properties: ['openFile'],
          filters: [
            { name: extensions.join(', ').toUpperCase(), extensions: [...extensions] },
            { name: 'All files', extensions: ['*'] },
          ],
        })
      )[0] ?? null,
    saveFile: async (defaultName, content) => {
      const owner = window();
      const extension = path.extname(defaultName).slice(1);
      const options: Electron.SaveDialogOptions = {
        defaultPath: defaultName,
        ...(extension === '' ? {} : { filters: [{ name: extension.toUpperCase(), extensions: [extension] }] }),
      };
      const result = owner === null ? await dialog.showSaveDialog(options) : await dialog.showSaveDialog(owner, options);
      if (result.canceled || result.filePath === undefined || result.filePath === '') return null;
      // Atomic, so that a crash while saving never leaves a torn export over an older one.
      await writeFileAtomic(result.filePath, content);
      return result.filePath;
    },
  };
}
