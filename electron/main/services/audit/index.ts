export { anchorId, canonicalJson, GENESIS_HASH, recordHash } from './chain.ts';
export { AUDIT_EVENT_TYPES, auditEventInputSchema, auditEventSchema, type AuditEvent, type AuditEventInput, type AuditEventType } from './events.ts';
export { EXPORT_FORMAT, exportAudit, isoDate, verifyAuditExport, type AuditExportOptions, type ExportVerification } from './export.ts';
export {
  addInstallationKeyToAnchor,
  anchorFilePath,
  anchorInstallationKey,
  auditDir,
  keyFilePath,
  parseAnchor,
  readAnchorFile,
  readKeyFile,
  type AnchorInstallationKey,
  type AuditKeyFile,
} from './key-file.ts';
export {
  AUDIT_LEVELS,
  createAuditLog,
  DEFAULT_CHECKPOINT_EVERY,
  purgeAudit,
  type AuditAnchorInfo,
  type AuditLevel,
  type AuditListOptions,
  type AuditLog,
  type AuditLogOptions,
  type AuditPurgeResult,
} from './log.ts';
export type { AuditCheckpoint, AuditMeta, AuditRecord } from './store.ts';
export { readKeyFileForVerify, verifyAudit, verifyAuditData, type AuditBreak, type AuditVerification, type VerifyOptions } from './verify.ts';
