import type { Collection, Passage } from '../common/contract/index.ts';
import { AppError, type Result } from '../common/result.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { listModels } from '../main/services/models/index.ts';
import { UsageError, type CommandValues } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

// Documents from the command line: the same knowledge service, database and index as the
// app, so collections made here appear there (and the other way round), and scripted
// ingestion runs exactly the pipeline the app runs.

export const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

export function reportError(output: Output, error: unknown): number {
  if (!(error instanceof AppError)) throw error;
  if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
  else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
  return EXIT.problem;
}

export async function withCore(dataDir: string, output: Output, run: (core: Core) => Promise<number>): Promise<number> {
  const core = await createCore({ dataDir, host: HOST, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
  try {
    return await run(core);
  } catch (error) {
    return reportError(output, error);
  } finally {
    await core.close();
  }
}

/**
 * The inference process is only needed for embeddings and reranking; starting it for
 * collections searched by words alone would cost a second for nothing.
 */
export async function startEngineIfUseful(core: Core, embedding: boolean): Promise<void> {
  if (embedding || listModels(core.storage).some((model) => model.role === 'reranking' && model.status === 'ok')) await core.runtime.start();
}

/** An id, a unique id prefix of at least four characters, or a model's exact name. */
export function resolveModel(core: Core, given: string, role: 'chat' | 'embedding'): string {
  const models = listModels(core.storage).filter((model) => model.role === role);
  const byId = models.filter((model) => model.id === given || (given.length >= 4 && model.id.startsWith(given)));
  const matches = byId.length > 0 ? byId : models.filter((model) => model.displayName.toLowerCase() === given.toLowerCase());
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new AppError('bad_request', `"${given}" matches ${matches.length} models; give more of the id.`);
  throw new AppError('not_found', `No ${role} model in the library is called or has the id "${given}". Run "soberana models list" to see them.`);
}

/** `--embedding-model`: absent leaves the choice to the service (the default embedding model), "none" means words only. */
export function embeddingChoice(core: Core, values: CommandValues): string | null | undefined {
  const given = values['embedding-model'];
  if (given === undefined) return undefined;
  if (typeof given !== 'string' || given.trim() === '') throw new UsageError('--embedding-model needs an id, a name or "none".');
  return given.trim().toLowerCase() === 'none' ? null : resolveModel(core, given.trim(), 'embedding');
}

/** The error for a missing collection, naming the ones that do exist, since a typo is the usual cause. */
export function missingCollection(core: Core, name: string): AppError {
  const names = core.knowledge.collections().map((collection) => `“${collection.name}”`);
  return new AppError(
    'not_found',
    `There is no collection named “${name.trim()}”.`,
    names.length === 0 ? 'There are no collections yet. Create one with "soberana knowledge create NAME".' : `The collections are: ${names.join(', ')}.`,
  );
}

export function findCollection(core: Core, name: string): Collection {
  const found = core.knowledge.collections().find((collection) => collection.name.toLowerCase() === name.trim().toLowerCase());
  if (found === undefined) throw missingCollection(core, name);
  return found;
}

/**
 * `--collection` is declared `multiple` where several may be given. main passes values on
 * as CommandValues, which has no arrays, so this reads what parseArgs really returns.
 */
export function collectionNames(values: CommandValues): string[] {
  const raw: unknown = values.collection;
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  const names = list.filter((name): name is string => typeof name === 'string').map((name) => name.trim());
  if (names.length === 0 || names.some((name) => name === '')) throw new UsageError('--collection needs the name of a collection.');
  return [...new Set(names)];
}

export const searchMode = (mode: 'hybrid' | 'text') => (mode === 'hybrid' ? 'words and meaning' : 'words only');

/** Where a passage is in its document: the page for paged formats, else the section's headings. */
export function location(passage: Pick<Passage, 'page' | 'headingPath'>): string {
  if (passage.page !== null) return `page ${passage.page}`;
  const headings = passage.headingPath.filter((heading) => heading !== '');
  return headings.length === 0 ? '' : `section “${headings.join(' › ')}”`;
}

/** "rows 12–40" for a passage of spreadsheet or CSV rows, as the sheet numbers them; '' otherwise. */
const rowRange = (passage: Pick<Passage, 'rows'>): string => {
  if (passage.rows === null || passage.rows === undefined) return '';
  const [first, last] = passage.rows;
  return first === last ? `row ${first}` : `rows ${first}–${last}`;
};

/**
 * "report.pdf, page 3"; "sales.xlsx, section “Q1”, rows 2–40" for spreadsheet rows (issue 16:
 * citations name the sheet and the row range); and "from a scan" when OCR read the passage
 * (its words may differ from the page).
 */
export const cite = (passage: Passage) =>
  [passage.documentName, location(passage), rowRange(passage), passage.ocrConfidence === null || passage.ocrConfidence === undefined ? '' : 'from a scan']
    .filter((part) => part !== '')
    .join(', ');

export function table(output: Output, header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  for (const row of [header, ...rows]) output.out(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}
