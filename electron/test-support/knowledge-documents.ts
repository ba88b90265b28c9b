import type { DocumentEntry, DocumentsQuery } from '../common/contract/index.ts';
import type { KnowledgeService } from '../main/services/knowledge/service.ts';

// Every document of a collection, for tests and benchmarks that check a whole collection:
// pages through the service's paged list (oldest first unless the query says otherwise), as
// the screen does.

export function allDocuments(
  knowledge: Pick<KnowledgeService, 'documents'>,
  collectionId: string,
  query: Omit<DocumentsQuery, 'collectionId' | 'cursor'> = {},
): DocumentEntry[] {
  const documents: DocumentEntry[] = [];
  let cursor: string | undefined;
  do {
    const page = knowledge.documents({ sort: 'added', limit: 500, ...query, collectionId, ...(cursor === undefined ? {} : { cursor }) });
    documents.push(...page.documents);
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return documents;
}
