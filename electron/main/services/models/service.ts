import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { Database } from '../storage/sqlite.ts';
import { importModel, type ImportOptions } from './import.ts';
import type { ModelLoadSettings } from './load-settings.ts';
import { removeModel, renameModel, setDefault, setLoadSettings, verifyModel, type HashOptions, type RemovedModel } from './registry.ts';
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
    async remove(id) {
      gate.check('models.remove');
      const removed = await removeModel(db, libraryDir, id);
      gate.changed('models.remove', id);
      changed();
      return removed;
    },
    rename(id, name) {
      gate.check('models.rename');
      const model = renameModel(db, id, name);
      gate.changed('models.rename', id);
      changed();
      return model;
    },
    setDefault(id, role) {
      gate.check('models.setDefault');
      const model = setDefault(db, id, role);
      gate.changed('models.setDefault', id);
      changed();
      return model;
    },
    setLoadSettings(id, settings) {
      gate.check('models.setLoadSettings');
      const model = setLoadSettings(db, id, settings);
      gate.changed('models.setLoadSettings', id);
      changed();
      return model;
    },
    async verify(id, options = {}) {
      gate.check('models.verify');
      const model = await verifyModel(db, id, options);
      gate.changed('models.verify', id);
      changed();
      return model;
    },
  };
}
