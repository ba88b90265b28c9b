import type { Passage, PackCheckResult, PackCheckRun, PackCheckTrigger } from '../../../../common/contract/index.ts';
import { AppError } from '../../../../common/result.ts';
import { getModel } from '../../models/index.ts';
import type { KnowledgeParts } from '../parts.ts';
import type { PackCheck } from '../pack/checks.ts';
import type { SearchRequest } from '../retrieval/search.ts';
import { FTS_ONLY_KEY } from '../store.ts';
import { bundleOf, checkSetOf, latestRuns, recordRun } from './store.ts';

// Running a collection's acceptance checks: each question goes through the collection's own
// retrieval, as a chat would search it, and passes when the expected document (and page)
// is among the first CHECK_TOP_K passages. A check with answer phrases also asks the chat
// model, when one is installed, and passes only if the answer holds every phrase.

/**
 * How deep a retrieval check looks. Five: a chat grounds its answer on the first passages
 * that fit its budget, which on a small model's context is about five; a document ranked
 * below that would rarely reach the answer.
 */
export const CHECK_TOP_K = 5;

/** Answers a question from these passages, deterministically (temperature 0); null when no chat model is installed. */
export type Answerer = (question: string, passages: readonly Passage[]) => Promise<string | null>;

export interface CheckParts extends Pick<KnowledgeParts, 'db' | 'store' | 'emit'> {
  /**
   * The collection's retrieval as a chat would run it, under the policy's markings (documents
   * marked beyond this machine are never returned, so a check cannot name them), but not
   * under the pack checks' own "disable": the run that may enable the collection again must search it.
   */
  readonly search: (request: SearchRequest) => Promise<{ readonly passages: readonly Passage[] }>;
  readonly answer?: Answerer | undefined;
  /** Collections the policy keeps out of retrieval now (after this run is recorded). */
  readonly disabled: () => ReadonlySet<string>;
}

/** What embeds the collection's queries: its embedding key while its model is usable, else "words". */
export function embeddingOf(parts: Pick<KnowledgeParts, 'db' | 'store'>, collectionId: string): string {
  const collection = parts.store.collection(collectionId);
  if (collection.embeddingKey === FTS_ONLY_KEY || collection.embeddingModelId === null) return 'words';
  try {
    const model = getModel(parts.db, collection.embeddingModelId);
    return model.status === 'ok' && model.role === 'embedding' ? collection.embeddingKey : 'words';
  } catch {
    return 'words';
  }
}

const containsPhrase = (answer: string, phrase: string) => answer.toLocaleLowerCase().includes(phrase.toLocaleLowerCase());

async function runOne(parts: CheckParts, collectionId: string, check: PackCheck, shaOf: (documentId: string) => string): Promise<PackCheckResult> {
  const found = await parts.search({ query: check.question, collectionIds: [collectionId], limit: CHECK_TOP_K });
  const passages = found.passages.slice(0, CHECK_TOP_K);
  const wanted = check.expect.document;
  const page = check.expect.page ?? null;
  const at = passages.findIndex(
    (passage) => (passage.documentName === wanted || shaOf(passage.documentId) === wanted.toLowerCase()) && (page === null || passage.page === page),
  );
  const retrieved = at !== -1;
  let answer: PackCheckResult['answer'] = 'none';
  let missingPhrases: string[] = [];
  if (check.answerPhrases !== undefined) {
    const text = parts.answer === undefined ? null : await parts.answer(check.question, passages);
    if (text === null) answer = 'skipped';
    else {
      missingPhrases = check.answerPhrases.filter((phrase) => !containsPhrase(text, phrase));
      answer = missingPhrases.length === 0 ? 'passed' : 'failed';
    }
  }
  return {
    id: check.id,
    question: check.question,
    expected: { document: wanted, page },
    passed: retrieved && answer !== 'failed',
    rank: retrieved ? at + 1 : null,
    found: passages.map((passage) => ({ document: passage.documentName, page: passage.page })),
    answer,
    missingPhrases,
  };
}

/** Runs the collection's checks, records the run and the audit event, and returns it. Refused when the collection has no checks. */
export async function runPackChecks(parts: CheckParts, collectionId: string, trigger: PackCheckTrigger): Promise<PackCheckRun> {
  const checks = checkSetOf(parts.db, collectionId);
  if (checks === null) throw new AppError('not_found', 'This collection carries no acceptance checks.', `collection ${collectionId}`);
  const shas = new Map<string, string>();
  const shaOf = (documentId: string) => {
    let sha = shas.get(documentId);
    if (sha === undefined) {
      sha = parts.store.document(documentId).sha256;
      shas.set(documentId, sha);
    }
    return sha;
  };
  const embedding = embeddingOf(parts, collectionId);
  const results: PackCheckResult[] = [];
  for (const check of checks) results.push(await runOne(parts, collectionId, check, shaOf));
  const bundle = bundleOf(parts.db, collectionId);
  const id = recordRun(parts.db, { collectionId, bundle, trigger, embedding, ranAt: new Date().toISOString(), results });
  const passed = results.filter((result) => result.passed).length;
  parts.emit({
    type: 'pack.checked',
    data: {
      bundle: bundle === null ? null : `${bundle.id} v${bundle.version}`,
      collectionId,
      trigger,
      total: results.length,
      passed,
      failed: results.length - passed,
    },
  });
  const [run] = latestRuns(parts.db, [collectionId], parts.disabled());
  if (run?.id !== id) throw new AppError('internal', 'The checks ran but their results were not kept.', `run ${id}`);
  return run;
}
