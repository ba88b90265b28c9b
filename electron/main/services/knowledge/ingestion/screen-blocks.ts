import { DocumentError, type ExtractedDocument } from '../types.ts';

// The policy's PII screening applied to an extracted document before it is chunked: redacted
// text is what gets chunked and embedded, and a blocked document fails with the policy's reason.

/** Screens a block of text for personal data by the policy. */
export type BlockScreen = (text: string) => {
  readonly text: string;
  readonly blocked: boolean;
  readonly reason?: string;
  readonly findings: readonly { readonly type: string }[];
};

export interface ScreenDeps {
  readonly screen?: BlockScreen;
  /** Records what personal data a document holds (types and counts), for the Documents screen. */
  readonly notePersonalData?: (documentId: string, counts: Readonly<Record<string, number>> | null) => void;
}

/** Every block screened; the counts of what was found are noted for the document (null when none). */
export function screenBlocks<T extends ExtractedDocument>(deps: ScreenDeps, extracted: T, documentId: string): T {
  const screen = deps.screen;
  if (screen === undefined) return extracted;
  const counts: Record<string, number> = {};
  const blocks = extracted.blocks.map((block) => {
    const result = screen(block.text);
    for (const finding of result.findings) counts[finding.type] = (counts[finding.type] ?? 0) + 1;
    if (result.blocked)
      throw new DocumentError(
        'pii_blocked',
        `${result.reason ?? 'This document contains personal data.'} This machine's policy does not allow documents with personal data.`,
      );
    return result.text === block.text ? block : { ...block, text: result.text };
  });
  deps.notePersonalData?.(documentId, Object.keys(counts).length === 0 ? null : counts);
  return { ...extracted, blocks };
}
