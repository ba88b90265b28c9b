import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/result.ts';
import { anchorFilePath, anchorInstallationKey } from '../main/services/audit/index.ts';
import {
  checkAgainstDocuments,
  checkAgainstStore,
  readDossier,
  readInstallationKey,
  type DossierFile,
  type PassageVerdict,
} from '../main/services/dossier/index.ts';
import { createExtractor } from '../main/services/knowledge/ingestion/extract/pool.ts';
import { DATABASE_FILE, openDatabase } from '../main/services/storage/sqlite.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

// An auditor's check of an answer dossier (docs/dossier.md): is it what this installation
// signed, and do the passages it cites still say what it says they said? Read-only: it
// never writes to the data folder, so it may run beside the app.

/** Whose key signed the dossier, against what this machine or the IT team's anchor says. */
interface KeyFinding {
  readonly keyId: string;
  /** The key the comparison was made with: the given anchor, this data folder's anchor, or its installation key. */
  readonly against: 'anchor' | 'installation' | null;
  /** null: nothing to compare with. */
  readonly matches: boolean | null;
}

async function keyFinding(dataDir: string, file: DossierFile, anchorFile: string | null): Promise<KeyFinding> {
  const { keyId, publicKey } = file.body.installation;
  const anchorPath = anchorFile ?? anchorFilePath(dataDir);
  if (anchorFile !== null || existsSync(anchorPath)) {
    let text: string;
    try {
      text = await readFile(anchorPath, 'utf8');
    } catch (error) {
      throw new AppError('io_error', 'The audit anchor could not be read.', `${anchorPath}: ${String(error)}`);
    }
    const recorded = anchorInstallationKey(text);
    if (recorded !== null) return { keyId, against: 'anchor', matches: recorded.publicKey === publicKey };
    if (anchorFile !== null) throw new AppError('not_found', 'That audit anchor names no installation key (it predates answer dossiers).', anchorPath);
  }
  const installation = readInstallationKey(dataDir);
  if (installation !== null) return { keyId, against: 'installation', matches: installation.publicKey === publicKey };
  return { keyId, against: null, matches: null };
}

async function passageVerdicts(dataDir: string, file: DossierFile, documents: string | null): Promise<PassageVerdict[]> {
  if (documents !== null) {
    const info = await stat(documents).catch(() => null);
    if (info === null || !info.isDirectory()) throw new AppError('not_found', 'The documents folder is not there.', documents);
    const extractor = createExtractor();
    try {
      return await checkAgainstDocuments(documents, file, extractor);
    } finally {
      await extractor.close();
    }
  }
  // Opening a missing database would create an empty one: say there is no data store instead.
  if (!existsSync(path.join(dataDir, DATABASE_FILE))) {
    throw new AppError('not_found', 'There is no data store here to check the passages against. Pass the documents with --documents DIR.', dataDir);
  }
  const db = openDatabase(dataDir);
  try {
    return checkAgainstStore(db, file);
  } finally {
    db.close();
  }
}

const where = (verdict: PassageVerdict) => `“${verdict.documentName}”${verdict.page === null ? '' : `, page ${verdict.page}`}`;

function keyLine(key: KeyFinding): string {
  if (key.matches === null) return `  key        ${key.keyId} (no installation key or anchor here to compare it with)`;
  const whose = key.against === 'anchor' ? "the audit anchor's installation key" : "this installation's key";
  return `  key        ${key.keyId} ${key.matches ? `is ${whose}` : `is NOT ${whose}`}`;
}

function report(output: Output, file: DossierFile, key: KeyFinding, verdicts: readonly PassageVerdict[], source: string): boolean {
  const bad = verdicts.filter((verdict) => !verdict.ok);
  const ok = bad.length === 0 && key.matches !== false;
  if (output.json) {
    output.out(
      JSON.stringify(
        { ok, signature: { ok: true, keyId: key.keyId }, key, checkedAgainst: source, answer: file.body.answer.messageId, passages: verdicts },
        null,
        2,
      ),
    );
    return ok;
  }
  const lines = [
    `${ok ? 'ok' : 'PROBLEM'}  dossier of answer ${file.body.answer.messageId} (“${file.body.conversation.title}”), ${file.body.createdAt}`,
    '  signature  good (Ed25519)',
    keyLine(key),
    `  passages   ${verdicts.length - bad.length} of ${verdicts.length} match ${source}`,
    ...verdicts.map((verdict) =>
      verdict.ok
        ? `  [${verdict.n}] ok        ${where(verdict)}`
        : `  [${verdict.n}] MISMATCH  ${where(verdict)}: ${verdict.problem}\n        ${verdict.detail ?? ''}`,
    ),
  ];
  (ok ? output.out : output.err)(lines.join('\n'));
  return ok;
}

export const dossierVerify: Command = {
  summary: "Verify an answer dossier's signature and re-hash the passages it cites",
  help: `Usage: soberana dossier verify FILE [--documents DIR] [--anchor FILE] [--json]

Checks an answer dossier exported with "Export evidence" (docs/dossier.md):
  1. its Ed25519 signature over the dossier's body: any change after signing fails it;
  2. the signing key against the audit anchor's installation key (--anchor, or the data
     directory's audit/anchor while it is there), else this installation's key;
  3. each cited passage: re-hashed from the data store (on the machine that exported
     it), or, with --documents, from the documents themselves, found in DIR by their
     SHA-256 and read again. Each passage that no longer matches is reported.

Options:
  --documents DIR  Check the passages against the documents in DIR (any machine)
  --anchor FILE    The audit anchor file the IT team keeps: the dossier's key must be
                   the installation key it names

Exit codes: 0 everything verifies, 1 the signature is bad, the key is not the
installation's, or a passage does not match, 2 bad usage, 3 internal error.`,
  options: { documents: { type: 'string' }, anchor: { type: 'string' } },
  positionals: { min: 1, max: 1 },
  async run({ dataDir, output, values, positionals }) {
    if (values.documents === '') throw new UsageError('--documents needs a folder.');
    if (values.anchor === '') throw new UsageError('--anchor needs a file.');
    const documents = typeof values.documents === 'string' ? path.resolve(values.documents) : null;
    const anchor = typeof values.anchor === 'string' ? path.resolve(values.anchor) : null;
    const dossierPath = path.resolve(positionals[0]!);
    try {
      let text: string;
      try {
        text = await readFile(dossierPath, 'utf8');
      } catch (error) {
        throw new AppError('not_found', 'The dossier could not be read.', `${dossierPath}: ${String(error)}`);
      }
      const { file, signature } = readDossier(text);
      if (!signature.ok || file === null) {
        const reason = signature.ok ? 'unreadable' : signature.reason;
        if (output.json) output.out(JSON.stringify({ ok: false, signature: { ok: false, reason } }, null, 2));
        else output.err(`BAD SIGNATURE  ${dossierPath}\n  ${reason}`);
        return EXIT.problem;
      }
      const key = await keyFinding(dataDir, file, anchor);
      const verdicts = await passageVerdicts(dataDir, file, documents);
      return report(output, file, key, verdicts, documents === null ? 'the data store' : documents) ? EXIT.ok : EXIT.problem;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      if (output.json) output.out(JSON.stringify({ ok: false, error: error.toData() }, null, 2));
      else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
      return EXIT.problem;
    }
  },
};
