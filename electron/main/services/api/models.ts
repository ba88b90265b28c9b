import { AppError } from '../../../common/result.ts';
import type { Governance } from '../governance.ts';
import { listModels } from '../models/index.ts';
import type { ModelRecord } from '../models/types.ts';
import type { Database } from '../storage/sqlite.ts';
import type { ApiModel } from './types.ts';

// The library as the local API names it: chat and embedding models whose files are as the
// library recorded them and that the policy allows, each under a name a script can type
// (the library name, lower-case, spaces as dashes), unique, and stable while the library is.

export interface ListedModel {
  readonly api: ApiModel;
  readonly record: ModelRecord;
}

/** The library name as an API id: lower-case, runs of spaces as one dash, nothing a URL or shell would trip on. */
export function slugOf(name: string): string {
  const slug = name
    .normalize('NFKC')
    .toLowerCase()
    .trim()
    .replace(/\s+/g, '-')
    .replace(/[^\p{L}\p{N}._:-]/gu, '')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '');
  return slug === '' ? 'model' : slug;
}

/** Like Ollama's "7.6B" or "135M", from the parameter count; null when unknown. */
export function parameterSize(count: number): string | null {
  if (count <= 0) return null;
  const [unit, divisor] = count >= 1e9 ? ['B', 1e9] : count >= 1e6 ? ['M', 1e6] : ['K', 1e3];
  const value = count / divisor;
  return `${value >= 100 ? Math.round(value) : Number(value.toFixed(1))}${unit}`;
}

function allowed(governance: Governance, record: ModelRecord): boolean {
  try {
    governance.assertModelAllowed(record.sha256, record.displayName);
    return true;
  } catch {
    return false;
  }
}

/** In the order they were added, so a second "Llama" is always `llama-2`, whatever was added after it. */
export function apiModels(db: Database, governance: Governance): ListedModel[] {
  const taken = new Set<string>();
  return listModels(db)
    .filter((record) => (record.role === 'chat' || record.role === 'embedding') && record.status === 'ok' && allowed(governance, record))
    .sort((a, b) => a.importedAt.localeCompare(b.importedAt) || a.id.localeCompare(b.id))
    .map((record) => {
      const base = slugOf(record.displayName);
      let id = base;
      for (let n = 2; taken.has(id); n += 1) id = `${base}-${n}`;
      taken.add(id);
      return {
        record,
        api: {
          id,
          libraryId: record.id,
          name: record.displayName,
          kind: record.role,
          sha256: record.sha256,
          sizeBytes: record.sizeBytes,
          addedAt: record.importedAt,
          family: record.facts.architecture === '' ? null : record.facts.architecture,
          parameterSize: parameterSize(record.facts.parameterCount),
          quantization: record.facts.quantization === '' ? null : record.facts.quantization,
        },
      };
    });
}

/**
 * The model a request names: by API id, library id or library name (Ollama clients add
 * ":latest"); '' means the library's default of that kind, else the only or first one.
 */
export function resolveModel(models: readonly ListedModel[], asked: string, kind: 'chat' | 'embedding'): ListedModel {
  const name = asked.trim();
  const ofKind = models.filter((model) => model.api.kind === kind);
  if (name === '') {
    const chosen = ofKind.find((model) => (kind === 'chat' ? model.record.isDefaultChat : model.record.isDefaultEmbedding)) ?? ofKind[0];
    if (chosen === undefined)
      throw new AppError('no_model', `There is no ${kind === 'chat' ? 'chat' : 'embedding'} model in the library that this machine's policy allows.`);
    return chosen;
  }
  const lower = name.toLowerCase();
  const bare = lower.endsWith(':latest') ? lower.slice(0, -':latest'.length) : lower;
  const found =
    models.find((model) => model.api.id === lower || model.api.libraryId === name) ??
    models.find((model) => model.api.id === bare || model.record.displayName.toLowerCase() === bare);
  if (found === undefined) throw new AppError('not_found', `There is no model "${name}" here. GET /v1/models lists the models you can use.`);
  if (found.api.kind !== kind)
    throw new AppError(
      'bad_request',
      kind === 'chat'
        ? `"${found.api.id}" is an embedding model: it cannot write replies. Choose a chat model.`
        : `"${found.api.id}" is a chat model, not an embedding model. Choose an embedding model.`,
    );
  return found;
}
