import type { ChatThread, Conversation, Marking, MarkingScheme, Passage } from '../../../common/contract/index.ts';
import { highest, markingFileTag, markingText } from '../../../common/markings.ts';
import { assertNotSeparated, collectionMarkings, documentMarkings, markingJson } from '../knowledge/markings.ts';
import type { Database } from '../storage/sqlite.ts';
import { markingOf } from './rows.ts';

// A conversation's classification (issue #18): it is marked at the highest marking it has
// seen, and each answer at the highest of its sources and the conversation's marking when it
// was given. A question whose collections, or whose conversation and new sources, would mix
// compartments the policy keeps apart is refused (knowledge/markings.ts names them).

export function conversationMarking(db: Database, conversationId: string): Marking | null {
  const row = db.prepare('SELECT marking FROM conversations WHERE id = ?').get(conversationId) as { marking: string | null } | undefined;
  return row === undefined ? null : markingOf(row.marking);
}

/** Before anything is saved: the conversation's collections, with what it has seen, may not mix separated compartments. */
export function assertQuestionAllowed(db: Database, scheme: MarkingScheme | null, conversation: Conversation): void {
  if (scheme === null || scheme.separated.length === 0) return;
  const collections = collectionMarkings(db);
  const attached = conversation.knowledge.collectionIds.filter((id) => collections.has(id)).map((id) => collections.get(id) ?? null);
  assertNotSeparated(scheme, [conversationMarking(db, conversation.id), ...attached], 'This question');
}

/** New sources (passages, and pinned documents given to the model) may not bring a compartment kept apart from what the conversation has seen. */
export function assertSourcesAllowed(
  db: Database,
  scheme: MarkingScheme | null,
  conversationId: string,
  sources: readonly Passage[],
  documentIds: readonly string[],
): void {
  if (scheme === null || scheme.separated.length === 0) return;
  const whole = [...documentMarkings(db, documentIds).values()];
  assertNotSeparated(scheme, [conversationMarking(db, conversationId), ...sources.map((passage) => passage.marking ?? null), ...whole], 'This question');
}

/**
 * The answer's marking, from the conversation's and everything the model was given: the
 * passages (they carry their document's marking) and the documents given whole. Refused when
 * they mix separated compartments. Written to the answer and raised on the conversation.
 */
export function markAnswer(
  db: Database,
  scheme: MarkingScheme | null,
  turn: {
    readonly conversationId: string;
    readonly messageId: string;
    readonly sources: readonly Passage[];
    readonly documentIds?: readonly string[] | undefined;
  },
): Marking | null {
  if (scheme === null) return null;
  const whole = turn.documentIds === undefined ? [] : [...documentMarkings(db, turn.documentIds).values()];
  const seen = [conversationMarking(db, turn.conversationId), ...turn.sources.map((passage) => passage.marking ?? null), ...whole];
  assertNotSeparated(scheme, seen, 'The passages found for this question');
  const marking = highest(scheme, seen);
  const json = markingJson(marking);
  db.prepare('UPDATE messages SET marking = ? WHERE id = ?').run(json, turn.messageId);
  db.prepare('UPDATE conversations SET marking = ? WHERE id = ?').run(json, turn.conversationId);
  return marking;
}

/** An export's marking: the highest of the conversation's and of every message and source it holds. */
export function exportMarking(scheme: MarkingScheme, thread: ChatThread): Marking {
  return highest(scheme, [
    thread.conversation.marking ?? null,
    ...thread.messages.flatMap((message) => [message.marking ?? null, ...message.sources.map((source) => source.marking ?? null)]),
  ]);
}

/** "RESTRICTED-FINANCE-Budget questions.md": the marking tag first, so the name says it before the file is opened. */
export const markedFileName = (marking: Marking | null, name: string): string => (marking === null ? name : `${markingFileTag(marking)}-${name}`);

/** For audit records: the marking as text, or nothing without markings. */
export const markingField = (marking: Marking | null): { marking?: string } => (marking === null ? {} : { marking: markingText(marking) });
