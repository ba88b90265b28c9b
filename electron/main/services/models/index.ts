export { scanModels, SCAN_LIMITS } from './scan.ts';
export type { ScanOptions } from './scan.ts';
export { importModel } from './import.ts';
export type { ImportOptions } from './import.ts';
export { cleanupPartialImports, libraryDirFor } from './library.ts';
export type { CleanupReport } from './library.ts';
export {
  clearDefault,
  findModelBySha256,
  getModel,
  listModels,
  markVerifiedByBundle,
  MAX_NAME_LENGTH,
  removeModel,
  renameModel,
  setDefault,
  setLoadSettings,
} from './registry.ts';
export type { RemovedModel } from './registry.ts';
export { pageModels } from './list-page.ts';
export type { ModelsPageResult } from './list-page.ts';
export { checkBeforeLoad, verifyModel } from './integrity.ts';
export type { HashOptions, LoadTarget } from './integrity.ts';
export { ModelLoadSettings } from './load-settings.ts';
export { IMPORT_MODES } from './types.ts';
export type {
  ByteProgress,
  DefaultRole,
  ImportMode,
  ImportProgress,
  ModelCandidate,
  ModelOrigin,
  ModelProvenance,
  ModelRecord,
  ModelStatus,
  ScanProblem,
  ScanResult,
} from './types.ts';
