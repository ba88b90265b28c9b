import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { PickResult } from '../../common/contract/schemas.ts';

/**
 * A platform port: Electron shows its open dialog in the main process; the e2e harness
 * returns the path the spec chose. Either way the path never comes from the renderer.
 */
export interface FilePicker {
  pickModelFile(): Promise<string | null>;
  /** Several files at once, for an import. Empty when the user cancels. */
  pickImportFiles(): Promise<string[]>;
  /** Documents to add to a collection. Empty when the user cancels. */
  pickDocuments(): Promise<string[]>;
  pickFolder(): Promise<string | null>;
  /** The files of the drop this token names (from `files.dropped`); each drop is handed out once. */
  droppedFiles(dropToken: string): Promise<string[]>;
  /** One file to read, e.g. a preset to import; `extensions` without dots. */
  pickOpenFile(title: string, extensions: readonly string[]): Promise<string | null>;
  /** Asks where to save, then writes `content` there; the path written, or null when the user cancels. */
  saveFile(defaultName: string, content: string): Promise<string | null>;
}

/** Maps opaque tokens to paths the user picked in this process's lifetime. */
export interface FileTokens {
  pick(picker: FilePicker): Promise<PickResult>;
  resolve(token: string): string | null;
}

export function createFileTokens(): FileTokens {
  const paths = new Map<string, string>();
  return {
    async pick(picker) {
      const chosen = await picker.pickModelFile();
      if (chosen === null) return { canceled: true };
      const info = await stat(chosen);
      const token = randomBytes(18).toString('base64url');
      paths.set(token, chosen);
      return { canceled: false, file: { token, name: path.basename(chosen), sizeBytes: info.size } };
    },
    resolve: (token) => paths.get(token) ?? null,
  };
}

/**
 * Dropped files' paths by token. Each drop gets its own, so a second drop does not replace
 * the first, and a token is taken once: a stale or replayed one finds nothing.
 */
export interface DropTokens {
  /** Keeps a drop's paths; the token to announce with `files.dropped`. */
  add(paths: readonly string[]): string;
  /** The drop's paths, forgotten as they are handed out; empty for an unknown token. */
  take(token: string): string[];
}

/** Drops nobody used are not kept for ever: past this many, the oldest go. */
const MAX_PENDING_DROPS = 16;

export function createDropTokens(): DropTokens {
  const drops = new Map<string, readonly string[]>();
  return {
    add(paths) {
      const token = randomBytes(18).toString('base64url');
      drops.set(token, [...paths]);
      // A Map iterates in insertion order: the first key is the oldest drop.
      while (drops.size > MAX_PENDING_DROPS) drops.delete(drops.keys().next().value!);
      return token;
    },
    take(token) {
      const paths = drops.get(token) ?? [];
      drops.delete(token);
      return [...paths];
    },
  };
}

/** For hosts without a dialog (the CLI): picking always cancels. */
export const NO_PICKER: FilePicker = {
  pickModelFile: async () => null,
  pickImportFiles: async () => [],
  pickDocuments: async () => [],
  pickFolder: async () => null,
  droppedFiles: async () => [],
  pickOpenFile: async () => null,
  saveFile: async () => null,
};
