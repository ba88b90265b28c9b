import { AppError } from '../../../common/result.ts';
import { addInstallationKeyToAnchor } from '../audit/index.ts';
import type { Emit } from '../domain/events.ts';
import { ensureInstallationKey, type InstallationKey } from './installation-key.ts';

export { checkAgainstDocuments, checkAgainstStore, type PassageProblem, type PassageVerdict } from './check.ts';
export { DOSSIER_FORMAT, dossierText, readDossier, type DossierBody, type DossierFile, type SignatureCheck } from './format.ts';
export { installationKeyPath, readInstallationKey, type InstallationKey } from './installation-key.ts';
export { createDossierService, dossierFileName, type DossierService } from './service.ts';

/**
 * At every start: the data folder's installation key, made the first time. A new key is put
 * on the record (an `installation.key` event) and into the audit anchor while the anchor is
 * still on this machine. A key file that cannot be read does not stop the app: exporting
 * evidence then fails with the reason, and nothing else depends on the key.
 */
export async function startInstallationKey(dataDir: string, emit: Emit, log?: (level: string, message: string) => void): Promise<() => InstallationKey> {
  try {
    const { key, created } = await ensureInstallationKey(dataDir);
    if (created) emit({ type: 'installation.key', data: { publicKey: key.publicKey, keyId: key.keyId } });
    try {
      addInstallationKeyToAnchor(dataDir, { algorithm: 'Ed25519', keyId: key.keyId, publicKey: key.publicKey, createdAt: key.createdAt });
    } catch (error) {
      log?.('warn', `The installation key could not be added to the audit anchor: ${String(error)}`);
    }
    return () => key;
  } catch (error) {
    const problem =
      error instanceof AppError
        ? error
        : new AppError('io_error', 'The installation key could not be made.', error instanceof Error ? error.message : String(error));
    log?.('error', `Answer dossiers cannot be signed: ${problem.message} ${problem.details ?? ''}`);
    return () => {
      throw problem;
    };
  }
}
