import { randomBytes } from 'node:crypto';
import type { Contract, ModelEntry, RuntimeModel, RuntimeSettings } from '../../common/contract/index.ts';
import type { Handlers } from '../../common/handlers.ts';
import { AppError, ok } from '../../common/result.ts';
import type { FilePicker } from './files.ts';
import type { ModelService } from './models/service.ts';
import { checkBeforeLoad, getModel, listModels, pageModels, scanModels, type ModelCandidate, type ModelRecord } from './models/index.ts';
import type { RuntimeEngine } from './inference/engine.ts';
import { pump } from './inference/handlers.ts';
import { loadOptionsFrom } from './inference/load-options.ts';
import type { Database } from './storage/sqlite.ts';

type ModelHandlers = Pick<
  Handlers<Contract>,
  | 'models.list'
  | 'models.scan'
  | 'models.import'
  | 'models.fit'
  | 'models.load'
  | 'models.rename'
  | 'models.remove'
  | 'models.verify'
  | 'models.setDefault'
  | 'models.setLoadSettings'
>;

export interface ModelHandlerDeps {
  readonly db: Database;
  /** Every change to the library goes through the governed service. */
  readonly service: ModelService;
  readonly engine: RuntimeEngine;
  readonly picker: FilePicker;
  readonly settings: () => RuntimeSettings;
  /** Called after every change to the library, to broadcast the new list. */
  readonly changed: (models: ModelEntry[]) => void;
}

/** The registry's records are the contract's entries; this keeps the compiler checking that. */
const entry = (record: ModelRecord): ModelEntry => record as ModelEntry;

export interface LoadLibraryModelOptions {
  readonly onProgress?: (progress: number) => void;
  readonly signal?: AbortSignal;
  /** Called once the pre-load check has run, which may have changed the model's status. */
  readonly checked?: () => void;
  /** Wins over the model's own and the app's context size: a conversation may ask for its own. */
  readonly contextSize?: number;
}

/**
 * Loads a library model with its per-model load settings over the app's runtime settings.
 * Shared by `models.load` and chat, which loads a conversation's model on demand.
 */
export async function loadLibraryModel(
  { db, engine, settings }: Pick<ModelHandlerDeps, 'db' | 'settings'> & { readonly engine: Pick<RuntimeEngine, 'state' | 'hardware' | 'load'> },
  id: string,
  { onProgress, signal, checked, contextSize }: LoadLibraryModelOptions = {},
): Promise<RuntimeModel> {
  const target = await checkBeforeLoad(db, id);
  checked?.();
  const hardware = engine.state().hardware ?? (await engine.hardware());
  const perModel = target.record.loadSettings ?? {};
  const context = contextSize ?? perModel.contextSize;
  const base = loadOptionsFrom(settings(), hardware.cpuCores, {
    ...(perModel.gpuLayers === undefined ? {} : { gpuLayers: perModel.gpuLayers }),
    ...(context === undefined ? {} : { contextSize: context }),
  });
  const options = {
    ...base,
    ...(perModel.batchSize === undefined ? {} : { batchSize: perModel.batchSize }),
    ...(perModel.flashAttention === undefined ? {} : { flashAttention: perModel.flashAttention }),
    ...(perModel.kvCacheType === undefined ? {} : { kvCacheType: perModel.kvCacheType }),
  };
  return engine.load(target.path, options, onProgress, signal, target.record.displayName);
}

export function createModelHandlers({ db, service, engine, picker, settings, changed }: ModelHandlerDeps): ModelHandlers {
  // Candidates the user picked in this process's dialogs, by token: the renderer never sends a path.
  const candidates = new Map<string, ModelCandidate>();
  const announce = () => changed(listModels(db).map(entry));

  return {
    'models.list': (query) => {
      const page = pageModels(db, query);
      return ok({ ...page, models: page.models.map(entry) });
    },

    'models.scan': async ({ source, dropToken }) => {
      const targets =
        source === 'files'
          ? await picker.pickImportFiles()
          : source === 'dropped'
            ? await picker.droppedFiles(dropToken ?? '')
            : [await picker.pickFolder()].filter((target) => target !== null);
      if (targets.length === 0) return ok({ canceled: true, candidates: [], problems: [], truncated: false });
      const found: { token: string; candidate: ModelCandidate }[] = [];
      const problems: { path: string; message: string }[] = [];
      let truncated = false;
      for (const target of targets) {
        const result = await scanModels(target);
        truncated ||= result.truncated;
        // Skipped files (a vision projector next to a model, say) are shown with the problems.
        problems.push(...[...result.problems, ...result.skipped].map((problem) => ({ path: problem.path, message: problem.message })));
        for (const candidate of result.candidates) {
          const token = randomBytes(18).toString('base64url');
          candidates.set(token, candidate);
          found.push({ token, candidate });
        }
      }
      return ok({
        canceled: false,
        truncated,
        problems,
        candidates: found.map(({ token, candidate }) => ({
          token,
          displayName: candidate.displayName,
          sizeBytes: candidate.sizeBytes,
          origin: candidate.origin,
          sourcePath: candidate.sourcePath,
          parts: candidate.paths.length,
        })),
      });
    },

    'models.import': ({ candidateToken, mode }, { signal }) =>
      pump(async (push) => {
        const candidate = candidates.get(candidateToken);
        if (candidate === undefined) throw new AppError('not_found', 'That file is no longer available. Choose it again.');
        const model = await service.import(candidate, { mode, signal, onProgress: (progress) => push({ type: 'progress', ...progress }) });
        candidates.delete(candidateToken);
        return { type: 'imported', model: entry(model) };
      }),

    'models.fit': async ({ id }) => {
      const target = await checkBeforeLoad(db, id);
      const perModel = target.record.loadSettings ?? {};
      const contextSize = perModel.contextSize ?? settings().contextSize;
      const gpuLayers = perModel.gpuLayers ?? settings().gpuLayers;
      return ok(
        await engine.fit(target.path, {
          ...(contextSize === 'auto' ? {} : { contextSize }),
          ...(gpuLayers === 'auto' ? {} : { gpuLayers }),
        }),
      );
    },

    'models.load': ({ id }, { signal }) =>
      pump(async (push) => {
        let last = -1;
        const model = await loadLibraryModel({ db, engine, settings }, id, {
          signal,
          checked: announce, // the check may have changed the status
          onProgress: (progress) => {
            if (progress - last >= 0.01 || progress === 1) {
              last = progress;
              push({ type: 'progress', progress });
            }
          },
        });
        return { type: 'loaded', model };
      }),

    'models.rename': ({ id, name }) => ok(entry(service.rename(id, name))),

    'models.remove': async ({ id }) => {
      const model = getModel(db, id);
      // Some systems refuse to delete an open file, and a loaded model is open.
      if (engine.state().model?.path !== undefined && model.files.includes(engine.state().model!.path)) await engine.unload();
      await service.remove(id);
      return ok({ removed: true as const });
    },

    'models.verify': ({ id }, { signal }) =>
      pump(async (push) => {
        const model = await service.verify(id, { signal, onProgress: (progress) => push({ type: 'progress', ...progress }) });
        return { type: 'verified', model: entry(model) };
      }),

    'models.setDefault': ({ id, role }) => ok(entry(service.setDefault(id, role))),

    'models.setLoadSettings': ({ id, settings: loadSettings }) => ok(entry(service.setLoadSettings(id, loadSettings))),
  };
}
