import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fullText } from '../knowledge/ingestion/chunk.ts';
import type { Extractor } from '../knowledge/ingestion/extract/pool.ts';
import type { Database } from '../storage/sqlite.ts';
import { rangeText } from './build.ts';
import { sha256Text, type DossierFile, type DossierPassage } from './format.ts';

// Re-hashing a dossier's passages: against the data store it came from (same machine), or
// against the documents themselves (anywhere: found by their SHA-256 and read again). Each
// passage gets its own verdict, so a report names exactly which citation no longer holds.

export type PassageProblem =
  /** The dossier's own hashes do not match its text (only possible if the signature also fails). */
  | 'inconsistent'
  /** The data store has no such passage any more (the document was removed or read again differently). */
  | 'missing'
  /** The data store's document (or, with documents given, the file of the same name) is not the file the passage was cited from. */
  | 'document_changed'
  /** The passage's text in the data store differs from the dossier's. */
  | 'text_changed'
  /** No given document has the passage's document SHA-256. */
  | 'document_not_found'
  /** The document was found but could not be read again. */
  | 'unreadable'
  /** Read again, the document's text in the passage's range differs. */
  | 'range_changed';

export interface PassageVerdict {
  readonly n: number;
  readonly documentName: string;
  readonly page: number | null;
  readonly ok: boolean;
  readonly problem: PassageProblem | null;
  readonly detail: string | null;
}

const verdict = (passage: DossierPassage, problem: PassageProblem | null, detail: string | null = null): PassageVerdict => ({
  n: passage.n,
  documentName: passage.documentName,
  page: passage.page,
  ok: problem === null,
  problem,
  detail,
});

/** Whether the passage's recorded hashes match its recorded text: the signature covers them, this catches a signer's bug. */
function selfConsistent(passage: DossierPassage): boolean {
  return sha256Text(passage.text) === passage.textSha256 && sha256Text(rangeText(passage)) === passage.rangeSha256 && passage.end >= passage.start;
}

interface StoredPassage {
  text: string;
  document_sha256: string;
}

/** Each cited passage against the data store's chunk: by its id, or (after a re-read gave new ids) by its document and range. */
export function checkAgainstStore(db: Database, file: DossierFile): PassageVerdict[] {
  const byId = db.prepare('SELECT k.text AS text, d.sha256 AS document_sha256 FROM chunks k JOIN documents d ON d.id = k.document_id WHERE k.id = ?');
  const byRange = db.prepare(
    'SELECT k.text AS text, d.sha256 AS document_sha256 FROM chunks k JOIN documents d ON d.id = k.document_id WHERE d.sha256 = ? AND k.start = ? AND k."end" = ? LIMIT 1',
  );
  return file.body.passages.map((passage) => {
    if (!selfConsistent(passage)) return verdict(passage, 'inconsistent', "The dossier's hashes do not match its own text.");
    const stored = (byId.get(passage.chunkId) ??
      (passage.documentSha256 === null ? undefined : byRange.get(passage.documentSha256, passage.start, passage.end))) as StoredPassage | undefined;
    if (stored === undefined) return verdict(passage, 'missing', 'The data store no longer holds this passage.');
    if (passage.documentSha256 !== null && stored.document_sha256 !== passage.documentSha256) {
      return verdict(passage, 'document_changed', `The data store's document has SHA-256 ${stored.document_sha256}, not ${passage.documentSha256}.`);
    }
    const storedSha = sha256Text(stored.text);
    if (storedSha !== passage.textSha256)
      return verdict(passage, 'text_changed', `The passage in the data store hashes to ${storedSha}, not ${passage.textSha256}.`);
    return verdict(passage, null);
  });
}

const MAX_FILES = 100_000;

async function fileSha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface FoundFile {
  readonly path: string;
  readonly sha256: string;
}

/** The regular files under `dir`, by SHA-256 (the wanted ones) and by name (the first of each), to tell a changed document from a missing one. */
async function findFiles(dir: string, wanted: ReadonlySet<string>): Promise<{ byHash: Map<string, string>; byName: Map<string, FoundFile> }> {
  const byHash = new Map<string, string>();
  const byName = new Map<string, FoundFile>();
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  let seen = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    if ((seen += 1) > MAX_FILES) break;
    const file = path.join(entry.parentPath, entry.name);
    const sha = await fileSha256(file);
    if (wanted.has(sha) && !byHash.has(sha)) byHash.set(sha, file);
    if (!byName.has(entry.name)) byName.set(entry.name, { path: file, sha256: sha });
  }
  return { byHash, byName };
}

/**
 * Each cited passage against the documents in `dir`: the file whose SHA-256 is the passage's
 * document's is read again the way ingestion reads it, and the passage's range of its text is
 * hashed. Text recognised by OCR or redacted at ingestion cannot be read back identically;
 * such passages report `range_changed`, and the data store check is the one that applies.
 */
export async function checkAgainstDocuments(dir: string, file: DossierFile, extractor: Pick<Extractor, 'extract'>): Promise<PassageVerdict[]> {
  const wanted = new Set(file.body.passages.flatMap((passage) => (passage.documentSha256 === null ? [] : [passage.documentSha256])));
  const { byHash: documents, byName } = await findFiles(dir, wanted);
  const texts = new Map<string, Promise<string>>();
  const textOf = (documentPath: string) => {
    let text = texts.get(documentPath);
    if (text === undefined) {
      // In the extraction worker, as ingestion reads: the parsers stay off this process.
      text = extractor.extract(documentPath).then((extracted) => fullText(extracted.blocks));
      texts.set(documentPath, text);
    }
    return text;
  };
  const verdicts: PassageVerdict[] = [];
  for (const passage of file.body.passages) {
    if (!selfConsistent(passage)) {
      verdicts.push(verdict(passage, 'inconsistent', "The dossier's hashes do not match its own text."));
      continue;
    }
    const documentPath = passage.documentSha256 === null ? undefined : documents.get(passage.documentSha256);
    const namesake = byName.get(path.basename(passage.documentName));
    if (documentPath === undefined && namesake !== undefined) {
      verdicts.push(
        verdict(
          passage,
          'document_changed',
          `${namesake.path} has SHA-256 ${namesake.sha256}, not ${passage.documentSha256 ?? '(unknown)'}: it is not the file that was cited.`,
        ),
      );
      continue;
    }
    if (documentPath === undefined) {
      verdicts.push(verdict(passage, 'document_not_found', `No file in ${dir} has SHA-256 ${passage.documentSha256 ?? '(unknown)'}.`));
      continue;
    }
    let text: string;
    try {
      text = await textOf(documentPath);
    } catch (error) {
      verdicts.push(verdict(passage, 'unreadable', `${documentPath}: ${error instanceof Error ? error.message : String(error)}`));
      continue;
    }
    const sha = sha256Text(text.slice(passage.start, passage.end));
    verdicts.push(
      sha === passage.rangeSha256
        ? verdict(passage, null)
        : verdict(passage, 'range_changed', `${documentPath}, characters ${passage.start}–${passage.end}, hash to ${sha}, not ${passage.rangeSha256}.`),
    );
  }
  return verdicts;
}
