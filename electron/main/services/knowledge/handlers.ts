import type { Contract } from '../../../common/contract/index.ts';
import type { Handlers } from '../../../common/handlers.ts';
import { ok } from '../../../common/result.ts';
import type { FilePicker } from '../files.ts';
import type { KnowledgeService } from './service.ts';

type KnowledgeHandlers = Pick<
  Handlers<Contract>,
  | 'knowledge.collections'
  | 'knowledge.createCollection'
  | 'knowledge.updateCollection'
  | 'knowledge.deleteCollection'
  | 'knowledge.documents'
  | 'knowledge.folders'
  | 'knowledge.retryFailed'
  | 'knowledge.add'
  | 'knowledge.removeDocument'
  | 'knowledge.unwatch'
  | 'knowledge.progress'
  | 'knowledge.cancel'
  | 'knowledge.search'
  | 'knowledge.view'
  | 'knowledge.setMarking'
>;

export function createKnowledgeHandlers(knowledge: KnowledgeService, picker: FilePicker): KnowledgeHandlers {
  return {
    'knowledge.collections': () => ok({ collections: knowledge.collections(), notices: knowledge.notices() }),
    'knowledge.createCollection': async ({ name, embeddingModelId }) => ok(await knowledge.createCollection(name, embeddingModelId)),
    'knowledge.updateCollection': async ({ id, name, embeddingModelId, ocrLanguages }) =>
      ok(
        await knowledge.updateCollection(id, {
          ...(name === undefined ? {} : { name }),
          ...(embeddingModelId === undefined ? {} : { embeddingModelId }),
          ...(ocrLanguages === undefined ? {} : { ocrLanguages }),
        }),
      ),
    'knowledge.deleteCollection': async ({ id }) => {
      await knowledge.deleteCollection(id);
      return ok({ deleted: true as const });
    },
    'knowledge.documents': (query) => ok(knowledge.documents(query)),
    'knowledge.folders': ({ collectionId }) => ok(knowledge.folders(collectionId)),
    'knowledge.retryFailed': ({ collectionId, folder }) => ok({ queued: knowledge.retryFailed(collectionId, folder) }),
    // Paths come from the platform's dialog or drop, never from the renderer.
    'knowledge.add': async ({ collectionId, source, dropToken, watch }) => {
      const paths =
        source === 'files'
          ? await picker.pickDocuments()
          : source === 'dropped'
            ? await picker.droppedFiles(dropToken ?? '')
            : [await picker.pickFolder()].filter((folder) => folder !== null);
      if (paths.length === 0) return ok({ queued: 0, unsupported: [] });
      const added = await knowledge.addPaths(collectionId, paths, source === 'folder' && watch === true);
      return ok({ queued: added.queued, unsupported: added.unsupported });
    },
    'knowledge.removeDocument': async ({ id }) => {
      await knowledge.removeDocument(id);
      return ok({ removed: true as const });
    },
    'knowledge.unwatch': ({ id }) => {
      knowledge.unwatch(id);
      return ok({ removed: true as const });
    },
    'knowledge.progress': () => ok(knowledge.queue.progress()),
    'knowledge.cancel': () => ok({ cancelled: knowledge.queue.cancel() }),
    'knowledge.search': async (request) => ok(await knowledge.search(request)),
    'knowledge.view': async ({ documentId }) => ok(await knowledge.view(documentId)),
    'knowledge.setMarking': (input) =>
      ok(
        input.target === 'collection' ? knowledge.setMarking('collection', input.id, input.marking) : knowledge.setMarking('document', input.id, input.marking),
      ),
  };
}
