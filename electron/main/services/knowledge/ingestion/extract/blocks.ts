import type { BlockKind, ExtractedBlock } from '../../types.ts';

/** Collapses runs of whitespace (including non-breaking spaces) to one space. */
export function squash(text: string): string {
  return text.replace(/[\s\u00a0]+/g, ' ').trim();
}

/**
 * Collects blocks in reading order and tracks the enclosing headings, so every extractor
 * computes headingPath the same way.
 */
export class BlockCollector {
  readonly blocks: ExtractedBlock[] = [];
  #headings: { level: number; text: string }[] = [];

  heading(text: string, level: number, page: number | null = null): void {
    const clean = squash(text);
    if (clean === '') return;
    const bounded = Math.min(6, Math.max(1, level));
    while (this.#headings.length > 0 && (this.#headings.at(-1)?.level ?? 0) >= bounded) this.#headings.pop();
    this.#headings.push({ level: bounded, text: clean });
    this.blocks.push({ kind: 'heading', text: clean, page, headingPath: this.#path(), level: bounded });
  }

  /** Adds a block; code keeps its whitespace, other kinds are trimmed and dropped when empty. */
  add(kind: BlockKind, text: string, page: number | null = null): void {
    const clean = kind === 'code' ? text.replace(/^\n+|\s+$/g, '') : text.trim();
    if (clean === '') return;
    this.blocks.push({ kind, text: clean, page, headingPath: this.#path() });
  }

  /** Adds a paragraph read from a page image by OCR, with Tesseract's confidence in it (0–100). */
  recognised(text: string, page: number, confidence: number): void {
    const clean = squash(text);
    if (clean === '') return;
    this.blocks.push({ kind: 'paragraph', text: clean, page, headingPath: this.#path(), ocrConfidence: confidence });
  }

  firstHeading(): string | null {
    return this.blocks.find((b) => b.kind === 'heading')?.text ?? null;
  }

  hasText(): boolean {
    return this.blocks.length > 0;
  }

  #path(): string[] {
    return this.#headings.map((h) => h.text);
  }
}
