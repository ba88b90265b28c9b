import { Marking, type MarkingScheme } from '../../../common/contract/index.ts';
import {
  dominates,
  effectiveMarking,
  formatMarking,
  highest,
  markingProblems,
  markingText,
  normaliseMarking,
  permitted,
  sameMarking,
} from '../../../common/markings.ts';
import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import { transaction, type Database } from '../storage/sqlite.ts';

// Classification markings of collections and documents (issue #18): what is stored, what this
// machine may retrieve, and the one way a marking changes. A stored null is the scheme's
// default level; a document is never marked below its collection (migration 19 gives a new
// document its collection's marking, or its e-mail's for an attachment).

export type MarkingTarget = 'collection' | 'document';

/** A stored marking column; null for none, and for anything that does not read as a marking (fail closed below: unknown ids are hidden). */
export function parseMarking(json: string | null): Marking | null {
  if (json === null) return null;
  try {
    const parsed = Marking.safeParse(JSON.parse(json));
    // Unreadable: counted as above every level, so it is never shown by mistake.
    return parsed.success ? normaliseMarking(parsed.data) : { level: '?', compartments: [] };
  } catch {
    return { level: '?', compartments: [] };
  }
}

export const markingJson = (marking: Marking): string => JSON.stringify(normaliseMarking(marking));

export function storedMarking(db: Database, target: MarkingTarget, id: string): Marking | null {
  const row = db.prepare(`SELECT marking FROM ${target === 'collection' ? 'collections' : 'documents'} WHERE id = ?`).get(id) as
    { marking: string | null } | undefined;
  if (row === undefined) throw new AppError('not_found', `That ${target} no longer exists.`, `${target} ${id}`);
  return parseMarking(row.marking);
}

/** Every collection's stored marking. */
export function collectionMarkings(db: Database): Map<string, Marking | null> {
  const rows = db.prepare('SELECT id, marking FROM collections').all() as { id: string; marking: string | null }[];
  return new Map(rows.map((row) => [row.id, parseMarking(row.marking)]));
}

/** The stored markings of these documents (absent: no such document). */
export function documentMarkings(db: Database, ids: readonly string[]): Map<string, Marking | null> {
  if (ids.length === 0) return new Map();
  const rows = db.prepare('SELECT id, marking FROM documents WHERE id IN (SELECT value FROM json_each(?))').all(JSON.stringify([...new Set(ids)])) as {
    id: string;
    marking: string | null;
  }[];
  return new Map(rows.map((row) => [row.id, parseMarking(row.marking)]));
}

export interface RetrievalScope {
  /** The asked collections this machine may retrieve from at all. */
  readonly collectionIds: string[];
  /** Documents of those collections marked beyond what this machine may retrieve. */
  readonly excludeDocumentIds: string[];
}

/**
 * What retrieval may search under the scheme: a collection marked above system high (or in a
 * compartment not granted) holds nothing retrievable, since its documents are marked at least
 * as high; in the others, the documents marked beyond it are left out of the index query.
 */
export function retrievalScope(db: Database, scheme: MarkingScheme | null, collectionIds: readonly string[]): RetrievalScope {
  if (scheme === null) return { collectionIds: [...collectionIds], excludeDocumentIds: [] };
  const collections = collectionMarkings(db);
  const allowed = collectionIds.filter((id) => collections.has(id) && permitted(scheme, effectiveMarking(scheme, collections.get(id))));
  if (allowed.length === 0) return { collectionIds: [], excludeDocumentIds: [] };
  // Only documents marked apart from their collection can differ from it (an inherited marking is the same JSON text),
  // so a collection of 30,000 documents marked as one costs no rows here.
  const rows = db
    .prepare(
      `SELECT d.id AS id, d.marking AS marking FROM documents d JOIN collections c ON c.id = d.collection_id
       WHERE d.collection_id IN (SELECT value FROM json_each(?)) AND d.marking IS NOT NULL AND d.marking IS NOT c.marking`,
    )
    .all(JSON.stringify(allowed)) as { id: string; marking: string | null }[];
  const excluded = rows.filter((row) => !permitted(scheme, effectiveMarking(scheme, parseMarking(row.marking)))).map((row) => row.id);
  return { collectionIds: allowed, excludeDocumentIds: excluded };
}

/** Whether this machine may show the document (its own marking, and its collection's). */
export function documentPermitted(db: Database, scheme: MarkingScheme | null, documentId: string): boolean {
  if (scheme === null) return true;
  const row = db
    .prepare('SELECT d.marking AS marking, c.marking AS collection FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.id = ?')
    .get(documentId) as { marking: string | null; collection: string | null } | undefined;
  if (row === undefined) return true;
  return [row.marking, row.collection].every((json) => permitted(scheme, effectiveMarking(scheme, parseMarking(json))));
}

/** The compartment pairs these markings would mix that the scheme keeps apart, as "FINANCE and LEGAL". */
export function separatedIn(scheme: MarkingScheme, markings: readonly (Marking | null | undefined)[]): string[] {
  const union = highest(scheme, markings).compartments;
  const present = new Set(union);
  return scheme.separated.filter(([a, b]) => present.has(a) && present.has(b)).map(([a, b]) => `${a} and ${b}`);
}

/** Refuses a question that would mix compartments the policy keeps apart, naming them. */
export function assertNotSeparated(scheme: MarkingScheme | null, markings: readonly (Marking | null | undefined)[], what: string): void {
  if (scheme === null) return;
  const pairs = separatedIn(scheme, markings);
  if (pairs.length === 0) return;
  throw new AppError(
    'forbidden',
    `${what} would mix compartments this machine's policy keeps apart: ${pairs.join('; ')}. Ask about each in a conversation of its own.`,
    pairs.join('; '),
  );
}

export interface SetMarkingDeps {
  readonly db: Database;
  readonly gate: Gate;
  readonly emit: Emit;
  readonly scheme: MarkingScheme | null;
}

/**
 * Sets a collection's or a document's marking. Raising (or keeping) is an ordinary governed
 * change (`knowledge.setMarking`); anything lower, or with a compartment removed, is lowering,
 * an administrator's action (`knowledge.lowerMarking`, see domain/gate.ts). A collection's
 * documents stay at least as high as it: raising it raises them; lowering it lowers those that
 * had its old marking, and leaves the ones marked higher on their own.
 */
export function setMarking(deps: SetMarkingDeps, target: MarkingTarget, id: string, wanted: Marking): { from: Marking | null; to: Marking; lowered: boolean } {
  const { db, scheme } = deps;
  if (scheme === null)
    throw new AppError('bad_request', "This machine's policy defines no classification markings, so nothing can be marked. Ask your IT team to define them.");
  const to = normaliseMarking(wanted);
  const problems = markingProblems(scheme, to);
  if (problems.length > 0) throw new AppError('bad_request', `That marking is not in this machine's scheme: ${problems.join('; ')}.`);
  const stored = storedMarking(db, target, id);
  const from = effectiveMarking(scheme, stored);
  const lowered = !dominates(scheme, to, from);
  if (target === 'document') {
    const row = db.prepare('SELECT c.marking AS marking FROM documents d JOIN collections c ON c.id = d.collection_id WHERE d.id = ?').get(id) as {
      marking: string | null;
    };
    const floor = effectiveMarking(scheme, parseMarking(row.marking));
    if (!dominates(scheme, to, floor))
      throw new AppError(
        'bad_request',
        `A document may not be marked below its collection, which is ${formatMarking(scheme, floor, 'en')}. Mark it at least that, or lower the collection first.`,
      );
  }
  deps.gate.check(lowered ? 'knowledge.lowerMarking' : 'knowledge.setMarking');
  if (stored !== null && sameMarking(stored, to)) return { from: stored, to, lowered: false };
  transaction(db, () => {
    if (target === 'document') {
      db.prepare('UPDATE documents SET marking = ? WHERE id = ?').run(markingJson(to), id);
      return;
    }
    db.prepare('UPDATE collections SET marking = ? WHERE id = ?').run(markingJson(to), id);
    const documents = db.prepare('SELECT id, marking FROM documents WHERE collection_id = ?').all(id) as { id: string; marking: string | null }[];
    const update = db.prepare('UPDATE documents SET marking = ? WHERE id = ?');
    for (const document of documents) {
      const current = effectiveMarking(scheme, parseMarking(document.marking));
      // Inherited (the collection's old marking): follows it. Marked on its own: stays, but never below the collection.
      const next = sameMarking(current, from) ? to : highest(scheme, [current, to]);
      if (document.marking === null || !sameMarking(current, next)) update.run(markingJson(next), document.id);
    }
  });
  deps.emit({ type: 'marking.changed', data: { target, id, from: stored === null ? null : markingText(stored), to: markingText(to), lowered } });
  return { from: stored, to, lowered };
}
