import type { Emit } from '../domain/events.ts';
import type { Gate, GovernedAction } from '../domain/gate.ts';
import type { Database } from '../storage/sqlite.ts';
import { importModel, type ImportOptions } from './import.ts';
import type { ModelLoadSettings } from './load-settings.ts';
import { verifyModel, type HashOptions } from './integrity.ts';
import { removeModel, renameModel, setDefault, setLoadSettings, type RemovedModel } from './registry.ts';
import type { DefaultRole, ModelCandidate, ModelRecord } from './types.ts';

// The model library's changes, governed: the app's Models screen and `soberana models`
// both change the library only through here, so the policy's rules on models (no hand
// imports, the allow-list of hashes) and the audit records cannot be skipped by either.

export interface ModelService {
  /** Imports one candidate by hand; refused when the policy allows only models from signed bundles, or when its hash is not allowed. */
  import(candidate: ModelCandidate, options: ImportOptions): Promise<ModelRecord>;
  remove(id: string): Promise<RemovedModel>;
  rename(id: string, name: string): ModelRecord;
  setDefault(id: string, role: DefaultRole): ModelRecord;
  setLoadSettings(id: string, settings: ModelLoadSettings | null): ModelRecord;
  verify(id: string, options?: HashOptions): Promise<ModelRecord>;
}

export function createModelService(deps: { db: Database; libraryDir: string; gate: Gate; emit: Emit; changed?: () => void }): ModelService {
  const { db, libraryDir, gate, emit } = deps;
  const changed = () => deps.changed?.();
  /** A governed change, then the new list to the windows (whether or not it worked: a failed verify changes the status too). */
  const change = <T>(action: GovernedAction, id: string, act: () => T): T => {
    const result = gate.perform(action, id, act);
    if (result instanceof Promise) return result.finally(changed) as T;
    changed();
    return result;
  };
  return {
    async import(candidate, options) {
      gate.check('models.import');
      const model = await importModel(db, libraryDir, candidate, options);
      try {
        gate.checkModel('models.import', { sha256: model.sha256, name: model.displayName });
      } catch (error) {
        // The hash is known only once the file is read: a model off the allow-list leaves nothing behind.
        await removeModel(db, libraryDir, model.id);
        changed();
        throw error;
      }
      emit({ type: 'model.imported', data: { modelId: model.id, name: model.displayName, sha256: model.sha256 } });
      changed();
      return model;
    },
    remove: (id) => change('models.remove', id, () => removeModel(db, libraryDir, id)),
    rename: (id, name) => change('models.rename', id, () => renameModel(db, id, name)),
    setDefault: (id, role) => change('models.setDefault', id, () => setDefault(db, id, role)),
    setLoadSettings: (id, settings) => change('models.setLoadSettings', id, () => setLoadSettings(db, id, settings)),
    verify: (id, options = {}) => change('models.verify', id, () => verifyModel(db, id, options)),
  };
}
