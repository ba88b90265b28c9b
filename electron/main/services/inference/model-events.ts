import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { RuntimeState } from '../../../common/contract/index.ts';
import type { Emit } from '../domain/events.ts';
import { listModels } from '../models/index.ts';
import type { Database } from '../storage/sqlite.ts';

export interface ModelIdentity {
  readonly id: string;
  readonly sha256: string;
}

/** The library model whose first file is this path. */
export function modelByPath(db: Database, filePath: string): ModelIdentity | null {
  const found = listModels(db).find((model) => model.files[0] === filePath);
  return found === undefined ? null : { id: found.id, sha256: found.sha256 };
}

/**
 * Which model a loaded path is, for records that name a model by its hash: a library model
 * by its registry row, a file loaded outside the library (only where the policy allows any
 * model) by the hash taken when it was loaded.
 */
export interface ModelLookup {
  byPath(filePath: string): ModelIdentity | null;
  /** Hashes a file the library does not hold, once per path, so its loads and answers can be recorded. */
  hashLoose(filePath: string, signal?: AbortSignal): Promise<ModelIdentity>;
}

export function createModelLookup(db: Database): ModelLookup {
  const loose = new Map<string, ModelIdentity>();
  return {
    byPath: (filePath) => modelByPath(db, filePath) ?? loose.get(filePath) ?? null,
    async hashLoose(filePath, signal) {
      const known = loose.get(filePath);
      if (known !== undefined) return known;
      const hash = createHash('sha256');
      for await (const chunk of createReadStream(filePath, signal === undefined ? {} : { signal })) hash.update(chunk as Buffer);
      const identity = { id: `file:${path.basename(filePath)}`.slice(0, 200), sha256: hash.digest('hex') };
      loose.set(filePath, identity);
      return identity;
    },
  };
}

/** Turns the engine's state changes into `model.loaded` and `model.unloaded` events, each with the model's hash. */
export function modelLoadEvents(lookup: Pick<ModelLookup, 'byPath'>, emit: Emit): (state: RuntimeState) => void {
  let loadedPath: string | null = null;
  return (state) => {
    const now = state.model?.path ?? null;
    if (now === loadedPath) return;
    const before = loadedPath === null ? null : lookup.byPath(loadedPath);
    const after = now === null ? null : lookup.byPath(now);
    if (before !== null) emit({ type: 'model.unloaded', data: { modelId: before.id, sha256: before.sha256 } });
    if (after !== null) emit({ type: 'model.loaded', data: { modelId: after.id, sha256: after.sha256 } });
    loadedPath = now;
  };
}
