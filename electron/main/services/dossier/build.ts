import { createHash } from 'node:crypto';
import type { ChatMessage } from '../../../common/contract/chat.ts';
import type { Passage } from '../../../common/contract/knowledge.ts';
import { AppError } from '../../../common/result.ts';
import { canonicalJson } from '../audit/index.ts';
import { listBundles } from '../bundles/index.ts';
import type { ChatStore } from '../chat/store.ts';
import type { LoadedPolicy } from '../policy/index.ts';
import { listModels } from '../models/index.ts';
import { product } from '../product.ts';
import type { Database } from '../storage/sqlite.ts';
import type { DossierBody, DossierPassage } from './format.ts';
import { sha256Text } from './format.ts';
import type { InstallationKey } from './installation-key.ts';

// Gathers what an auditor needs about one answer, from the records this machine keeps: the
// question and answer, the turns before them as hashes, the model, the settings, the policy,
// the bundles, each passage the model was given with its hashes, and the turn's audit record.
// Pure reads; signing and saving are the handler's.

export interface DossierSources {
  readonly db: Database;
  readonly store: ChatStore;
  readonly loadedPolicy: LoadedPolicy;
  readonly key: InstallationKey;
  /** The marking scheme's rules, when the policy defines one; null: markings are off and every marking field is null. */
  readonly markings: MarkingRules | null;
  readonly now?: () => Date;
}

export type DossierMarking = { level: string; compartments: string[] };

export interface MarkingRules {
  /** A stored marking as it counts (null or absent: the scheme's default level). */
  effective(stored: DossierMarking | null): DossierMarking;
  highest(markings: readonly DossierMarking[]): DossierMarking;
}

/** An item's stored marking, when the markings feature gave it one (the field is optional in the contract). */
function storedMarking(item: object): DossierMarking | null {
  const marking = (item as { marking?: DossierMarking | null }).marking;
  return marking === undefined || marking === null ? null : { level: marking.level, compartments: [...marking.compartments] };
}

/** The passage's range alone, without the heading the chunker put in front of it (knowledge/ingestion/chunk.ts's chunkBody). */
export function rangeText(passage: Pick<Passage, 'text' | 'start' | 'end'>): string {
  const length = passage.end - passage.start;
  return passage.text.slice(Math.max(0, passage.text.length - length));
}

export function buildDossierBody(sources: DossierSources, messageId: string): DossierBody {
  const { db, store, markings } = sources;
  const markingOf = (item: object): DossierMarking | null => (markings === null ? null : markings.effective(storedMarking(item)));
  const answerRow = store.message(messageId);
  if (answerRow.role !== 'assistant') throw new AppError('bad_request', 'Evidence can be exported for an answer only.', `message ${messageId} is the user's`);
  if (answerRow.status === 'streaming') throw new AppError('busy', 'Wait for the answer to finish before exporting its evidence.');
  const path = store.pathTo(messageId);
  const questionRow = path.at(-2);
  if (questionRow === undefined || questionRow.role !== 'user') throw new AppError('internal', 'The answer has no question before it.', `message ${messageId}`);
  const answer: ChatMessage = store.toChatMessage(answerRow);
  const conversation = store.conversation(answerRow.conversationId);
  const answerSha = sha256Text(answerRow.content);

  const passages: DossierPassage[] = answer.sources.map((passage, index) => ({
    n: index + 1,
    chunkId: passage.chunkId,
    documentId: passage.documentId,
    documentName: passage.documentName,
    documentSha256: documentSha(db, passage.documentId),
    collectionId: passage.collectionId,
    format: passage.format,
    page: passage.page,
    headingPath: [...passage.headingPath],
    rows: passage.rows ?? null,
    start: passage.start,
    end: passage.end,
    text: passage.text,
    textSha256: sha256Text(passage.text),
    rangeSha256: sha256Text(rangeText(passage)),
    marking: markingOf(passage),
  }));

  const records = turnRecords(db, answerRow.conversationId, answerSha);
  const answerMarking = markingOf(answer);
  const conversationMarking = markingOf(conversation);
  const { sampling } = conversation.settings;
  return {
    kind: 'answer-evidence',
    createdAt: (sources.now ?? (() => new Date()))().toISOString(),
    product: { name: product.name, version: product.version },
    installation: { algorithm: 'Ed25519', keyId: sources.key.keyId, publicKey: sources.key.publicKey },
    conversation: { id: conversation.id, title: conversation.title, marking: conversationMarking },
    precedingTurns: path.slice(0, -2).map((message) => ({ messageId: message.id, role: message.role, sha256: sha256Text(message.content) })),
    question: { messageId: questionRow.id, text: questionRow.content, sha256: sha256Text(questionRow.content), createdAt: questionRow.createdAt },
    answer: {
      messageId: answerRow.id,
      text: answerRow.content,
      sha256: answerSha,
      createdAt: answerRow.createdAt,
      status: answerRow.status === 'complete' ? 'complete' : 'interrupted',
      marking: answerMarking,
    },
    model: { name: answerRow.modelName, sha256: records.modelSha256 ?? modelShaByName(db, answerRow.modelName) },
    sampling: {
      temperature: sampling.temperature,
      topP: sampling.topP,
      topK: sampling.topK,
      minP: sampling.minP,
      repeatPenalty: sampling.repeatPenalty,
      maxTokens: sampling.maxTokens,
      seed: sampling.seed,
      contextSize: conversation.settings.contextSize,
      systemPromptSha256: sha256Text(conversation.settings.systemPrompt),
    },
    policy: { status: sources.loadedPolicy.status, sha256: sources.loadedPolicy.hash },
    bundles: listBundles(db).map((bundle) => ({
      id: bundle.id,
      name: bundle.name,
      version: bundle.version,
      // The bundle's fingerprint as its audit records name it: SHA-256 of its signed manifest.
      sha256: createHash('sha256').update(canonicalJson(bundle.manifest)).digest('hex'),
    })),
    passages,
    audit: { anchorId: anchorIdOf(db), records: records.records },
    marking:
      markings === null
        ? null
        : markings.highest([answerMarking, conversationMarking, ...passages.map((passage) => passage.marking)].filter((item) => item !== null)),
  };
}

function documentSha(db: Database, documentId: string): string | null {
  const row = db.prepare('SELECT sha256 FROM documents WHERE id = ?').get(documentId) as { sha256: string } | undefined;
  return row !== undefined && /^[0-9a-f]{64}$/.test(row.sha256) ? row.sha256 : null;
}

function anchorIdOf(db: Database): string | null {
  const row = db.prepare('SELECT anchor_id FROM audit_meta WHERE id = 1').get() as { anchor_id: string } | undefined;
  return row?.anchor_id ?? null;
}

/**
 * The chat.turn record(s) of this answer: same conversation, same response hash. A continued
 * answer has one per part; only the last matches the final text, which is the one kept.
 */
function turnRecords(db: Database, conversationId: string, responseSha256: string): { records: DossierBody['audit']['records']; modelSha256: string | null } {
  const rows = db
    .prepare(
      `SELECT seq, type, at, hash, json_extract(data, '$.modelSha256') AS model FROM audit_records
       WHERE type = 'chat.turn' AND json_extract(data, '$.conversationId') = ? AND json_extract(data, '$.responseSha256') = ? ORDER BY seq`,
    )
    .all(conversationId, responseSha256) as { seq: number; type: string; at: string; hash: string; model: string | null }[];
  return {
    records: rows.map((row) => ({ seq: row.seq, type: row.type, at: row.at, hash: row.hash })),
    modelSha256: rows.at(-1)?.model ?? null,
  };
}

/** Without an audit record (auditing off): the library's model of that name, when exactly one has it. */
function modelShaByName(db: Database, name: string | null): string | null {
  if (name === null) return null;
  const matches = listModels(db).filter((model) => model.displayName === name);
  return matches.length === 1 ? (matches[0]?.sha256 ?? null) : null;
}
