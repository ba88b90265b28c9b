/** The types the built-in detectors report. A plugged-in detector may use any other lowercase name. */
export const BUILTIN_PII_TYPES = ['email', 'phone', 'iban', 'card', 'ip', 'dni', 'nie', 'ssn', 'dob'] as const;
export type BuiltinPiiType = (typeof BUILTIN_PII_TYPES)[number];

/**
 * One piece of personal data in a text. Offsets are UTF-16 code units (JavaScript string
 * indices), end exclusive. `value` is for the app's own use (e.g. showing the user what
 * was found); it must never be logged.
 */
export interface Finding {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/** A span a detector's `find` proposes; `validate` may still turn it down. */
export interface PiiCandidate {
  readonly start: number;
  readonly end: number;
  readonly value: string;
}

/**
 * A pluggable detector. `find` is cheap and generous (shape only); `validate` applies the
 * checksum, calendar or context rules that keep false positives low. Both are pure.
 */
export interface PiiDetector {
  /** Lowercase; becomes the placeholder `[TYPE]` when redacting. */
  readonly type: string;
  /** Plain words for a blocked-text reason, e.g. "e-mail address" (defaults to the type). */
  readonly label?: string;
  find(text: string): readonly PiiCandidate[];
  /** `text` is the whole input, for detectors that need context around the candidate. */
  validate?(candidate: PiiCandidate, text: string): boolean;
}

export type PiiMode = 'off' | 'warn' | 'redact' | 'block';
export const PII_MODES: readonly PiiMode[] = ['off', 'warn', 'redact', 'block'];

/** Where text meets the policy: documents being ingested, and prompts sent to a model. */
export type PiiContext = 'ingestion' | 'prompts';
export type PiiPolicy = Readonly<Record<PiiContext, PiiMode>>;

export interface PiiPolicyResult {
  readonly findings: readonly Finding[];
  /** The input, or with each finding replaced by its placeholder when the mode is redact. */
  readonly text: string;
  readonly blocked: boolean;
  /** When blocked: the types found, in plain words, never the values. */
  readonly reason?: string;
}
