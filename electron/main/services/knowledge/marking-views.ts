import type { Collection, DocumentEntry, MarkingScheme, Passage } from '../../../common/contract/index.ts';
import { effectiveMarking, permitted } from '../../../common/markings.ts';
import { AppError } from '../../../common/result.ts';
import type { Database } from '../storage/sqlite.ts';
import { collectionMarkings, documentMarkings, documentPermitted } from './markings.ts';

// What the knowledge service hands out, with markings (issue #18): each collection, document
// and passage carries its effective marking while the policy defines a scheme (null without
// one), and no passage beyond what this machine may retrieve leaves the service, whichever
// path found it. The index query already leaves those out (markings.ts retrievalScope); the
// filter here is the last line, for a marking changed while a search ran. Without a scheme
// nothing is added: the field is optional, and the objects read as they did before markings.

export function markCollections(db: Database, scheme: MarkingScheme | null, collections: readonly Collection[]): Collection[] {
  if (scheme === null) return [...collections];
  const stored = collectionMarkings(db);
  return collections.map((collection) => ({ ...collection, marking: effectiveMarking(scheme, stored.get(collection.id)) }));
}

export function markDocuments<T extends Pick<DocumentEntry, 'id'>>(
  db: Database,
  scheme: MarkingScheme | null,
  documents: readonly T[],
): (T & Pick<DocumentEntry, 'marking'>)[] {
  if (scheme === null) return [...documents];
  const stored = documentMarkings(
    db,
    documents.map((document) => document.id),
  );
  return documents.map((document) => ({ ...document, marking: effectiveMarking(scheme, stored.get(document.id)) }));
}

/** Passages this machine may show, each with its document's marking. */
export function markPassages(db: Database, scheme: MarkingScheme | null, passages: readonly Passage[]): Passage[] {
  if (scheme === null) return [...passages];
  const stored = documentMarkings(
    db,
    passages.map((passage) => passage.documentId),
  );
  const collections = collectionMarkings(db);
  return passages.flatMap((passage) => {
    const marking = effectiveMarking(scheme, stored.get(passage.documentId));
    const collection = effectiveMarking(scheme, collections.get(passage.collectionId));
    return permitted(scheme, marking) && permitted(scheme, collection) ? [{ ...passage, marking }] : [];
  });
}

/** The viewer shows a document only where its marking may be shown on this machine. */
export function assertViewable(db: Database, scheme: MarkingScheme | null, documentId: string): void {
  if (!documentPermitted(db, scheme, documentId))
    throw new AppError(
      'forbidden',
      "This document is marked above what this machine's policy allows, or in a compartment it does not grant, so it cannot be shown here.",
      `document ${documentId}`,
    );
}
