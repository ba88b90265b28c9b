import type { ModelFacts, ModelKind } from '../gguf/index.ts';
import type { ModelLoadSettings } from './load-settings.ts';

export type ImportMode = 'copy' | 'link' | 'reference';
export const IMPORT_MODES: readonly ImportMode[] = ['copy', 'link', 'reference'];

/** Where a candidate was found: a plain file, a set of split files, LM Studio's or Ollama's model folders. */
export type ModelOrigin = 'file' | 'split' | 'lmstudio' | 'ollama';

/**
 * `missing`: a file of the model is gone. `changed`: its bytes no longer hash to what was
 * imported. Neither is loaded until a verify finds the model whole again.
 */
export type ModelStatus = 'ok' | 'missing' | 'changed';

export type DefaultRole = 'chat' | 'embedding';

/** One model the scanner found; not yet checked or imported. */
export interface ModelCandidate {
  /** Suggested name: the file name without `.gguf` (and without the split suffix), or `<model>:<tag>` for Ollama. */
  readonly displayName: string;
  /** Absolute paths; for split models, the parts in order (the first carries the metadata). */
  readonly paths: readonly string[];
  /** The names the files get inside the library, same order as `paths`. Split parts keep theirs, which llama.cpp relies on. */
  readonly fileNames: readonly string[];
  readonly sizeBytes: number;
  readonly origin: ModelOrigin;
  /** What the user would recognise as the source: the file, the first part, or the Ollama manifest. */
  readonly sourcePath: string;
  /** Ollama names each blob by its SHA-256; an import whose hash differs is refused as damaged. */
  readonly expectedSha256?: string;
}

/** Something the scanner found and could not offer as a model (a missing split part, a broken manifest…). */
export interface ScanProblem {
  readonly path: string;
  readonly message: string;
}

export interface ScanResult {
  readonly candidates: readonly ModelCandidate[];
  /** What looked like a model but cannot be imported as found (a missing split part, a broken manifest…). */
  readonly problems: readonly ScanProblem[];
  /** Files passed over on purpose, with the reason (e.g. vision projectors next to LM Studio models). */
  readonly skipped: readonly ScanProblem[];
  /** True when the depth or entry limit stopped the walk early; what was found so far is still returned. */
  readonly truncated: boolean;
}

/** Free-text provenance fields from the file's own metadata; null when the file has none. */
export interface ModelProvenance {
  readonly author: string | null;
  readonly organization: string | null;
  /** `general.url`: the model's home page. */
  readonly url: string | null;
  /** `general.source.url`: where the weights were converted from. */
  readonly sourceUrl: string | null;
  readonly repository: string | null;
}

export interface ModelRecord {
  readonly id: string;
  readonly displayName: string;
  readonly role: ModelKind;
  readonly sizeBytes: number;
  /** Hex SHA-256 of the model's bytes; for split models, of the parts concatenated in order. */
  readonly sha256: string;
  readonly importMode: ImportMode;
  readonly origin: ModelOrigin;
  readonly sourcePath: string;
  /** Absolute paths of the files to load, parts in order: inside the library (copy, link) or the originals (reference). */
  readonly files: readonly string[];
  /** ISO 8601, UTC. */
  readonly importedAt: string;
  readonly facts: ModelFacts;
  readonly chatTemplate: string | null;
  readonly license: string | null;
  readonly provenance: ModelProvenance | null;
  /** Filled by the signed-bundle work: which bundle vouched for these bytes. */
  readonly verifiedByBundle: string | null;
  readonly status: ModelStatus;
  /** When the hash was last confirmed or found wrong (import, verify, or a load check that re-hashed). */
  readonly checkedAt: string;
  readonly loadSettings: ModelLoadSettings | null;
  readonly isDefaultChat: boolean;
  readonly isDefaultEmbedding: boolean;
}

export interface ByteProgress {
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Smoothed over the last seconds; 0 until there is a first measurement. */
  readonly bytesPerSecond: number;
  /** null until the speed is known. */
  readonly secondsLeft: number | null;
}

export interface ImportProgress extends ByteProgress {
  /** `checking` runs the GGUF validator; `copying` (copy mode) or `hashing` (link, reference) read the bytes. */
  readonly phase: 'checking' | 'copying' | 'hashing' | 'finishing';
}
