import type { RuntimeState } from '../../../common/contract/index.ts';
import type { Emit } from '../domain/events.ts';
import { listModels } from '../models/index.ts';
import type { Database } from '../storage/sqlite.ts';

/** The library model whose first file is this path, for events that name a model by its hash. */
export function modelByPath(db: Database, filePath: string): { id: string; sha256: string } | null {
  const found = listModels(db).find((model) => model.files[0] === filePath);
  return found === undefined ? null : { id: found.id, sha256: found.sha256 };
}

/** Turns the engine's state changes into `model.loaded` and `model.unloaded` events, each with the model's hash. */
export function modelLoadEvents(db: Database, emit: Emit): (state: RuntimeState) => void {
  let loadedPath: string | null = null;
  return (state) => {
    const now = state.model?.path ?? null;
    if (now === loadedPath) return;
    const before = loadedPath === null ? null : modelByPath(db, loadedPath);
    const after = now === null ? null : modelByPath(db, now);
    if (before !== null) emit({ type: 'model.unloaded', data: { modelId: before.id, sha256: before.sha256 } });
    if (after !== null) emit({ type: 'model.loaded', data: { modelId: after.id, sha256: after.sha256 } });
    loadedPath = now;
  };
}
