import type { Marking, MarkingScheme } from '../../../common/contract/markings.ts';
import { effectiveMarking, highest, markingFileTag } from '../../../common/markings.ts';
import { AppError } from '../../../common/result.ts';
import { fileNameFor } from '../chat/files.ts';
import { createChatStore, type ChatStore } from '../chat/store.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { FilePicker } from '../files.ts';
import type { Governance } from '../governance.ts';
import type { Database } from '../storage/sqlite.ts';
import { buildDossierBody, type MarkingRules } from './build.ts';
import { dossierText, signDossier, type DossierFile } from './format.ts';
import type { InstallationKey } from './installation-key.ts';

// "Export evidence": one answer's signed dossier, saved where the person chooses. It is an
// export like a conversation's, so the same rule governs it (the policy's export.allowed,
// through the gate's chat.export) and it leaves an `export` record naming what was exported.

export interface DossierDeps {
  readonly db: Database;
  readonly governance: Governance;
  /** The installation key; throws when it could not be read or made (dossier/index.ts). */
  readonly key: () => InstallationKey;
  readonly picker: FilePicker;
  readonly gate: Gate;
  readonly emit: Emit;
  readonly store?: ChatStore;
  readonly now?: () => Date;
}

export interface DossierService {
  /** Builds and signs the dossier of an answer, without saving it. */
  dossier(messageId: string): DossierFile;
  exportEvidence(messageId: string): Promise<{ saved: boolean; path: string | null }>;
}

function markingRules(scheme: MarkingScheme | null | undefined): MarkingRules | null {
  if (scheme === null || scheme === undefined) return null;
  return {
    effective: (stored) => effectiveMarking(scheme, stored as Marking | null),
    highest: (markings) => highest(scheme, markings as Marking[]),
  };
}

/** e.g. `RESTRICTED-evidence-Budget questions.json`: the marking tag first, as every marked export's name starts. */
export function dossierFileName(file: DossierFile): string {
  const name = fileNameFor(`evidence-${file.body.conversation.title}`, 'json');
  return file.body.marking === null ? name : `${markingFileTag(file.body.marking)}-${name}`;
}

export function createDossierService(deps: DossierDeps): DossierService {
  const store = deps.store ?? createChatStore(deps.db);
  const dossier = (messageId: string) => {
    const key = deps.key();
    return signDossier(
      buildDossierBody(
        {
          db: deps.db,
          store,
          loadedPolicy: deps.governance.loaded,
          key,
          markings: markingRules(deps.governance.policy.markings),
          ...(deps.now === undefined ? {} : { now: deps.now }),
        },
        messageId,
      ),
      key,
    );
  };
  return {
    dossier,
    async exportEvidence(messageId) {
      deps.gate.check('chat.export');
      const file = dossier(messageId);
      let saved: string | null;
      try {
        saved = await deps.picker.saveFile(dossierFileName(file), dossierText(file));
      } catch (error) {
        throw new AppError(
          'io_error',
          'The file could not be saved. Check that the folder exists and that you can write to it.',
          error instanceof Error ? error.message : String(error),
        );
      }
      if (saved !== null) deps.emit({ type: 'export', data: { what: 'dossier', format: 'json', items: file.body.passages.length } });
      return { saved: saved !== null, path: saved };
    },
  };
}
