// Knowledge packs: a collection's documents, passages and vectors in a folder (see
// pack/format.ts for the layout). This is the module the rest of the app imports; the
// format, the export and the import live in pack/.

export {
  CHUNKS_FILE,
  DOCUMENTS_FILE,
  FILES_DIR,
  PACK_FILE,
  PACK_FORMAT,
  type PackChunk,
  type PackDocument,
  type PackManifest,
  type PackProgress,
  type PackSummary,
} from './pack/format.ts';
export { exportKnowledgePack, type ExportDeps } from './pack/export.ts';
export { importKnowledgePack, type ImportDeps, type ImportOptions } from './pack/import.ts';
