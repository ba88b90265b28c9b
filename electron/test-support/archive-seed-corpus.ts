import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

// What an office archive looks like on disk, generated: small text documents in nested
// folders (department / year / month), with the odd file Soberana does not read and a few
// that look like documents but cannot be read. Deterministic for a seed, so two runs build
// the same archive and a cached data folder can be keyed by the seed's version.

/** A small deterministic PRNG (mulberry32): the same seed gives the same archive. */
export function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SYLLABLES = ['ta', 'ne', 'ri', 'mo', 'sa', 'lu', 'ker', 'vin', 'da', 'po', 'gel', 'tra', 'mi', 'so', 'ban', 'cor', 'fe', 'lis', 'no', 'ur'];
const DEPARTMENTS = ['legal', 'finance', 'operations', 'human-resources', 'procurement', 'records', 'facilities', 'compliance'];
const KINDS = ['memo', 'minutes', 'report', 'letter', 'contract-note', 'invoice-note', 'summary', 'request'];

/** A vocabulary of made-up words, so searches for a word find a predictable few documents. */
export function vocabulary(random: () => number, size = 2_000): string[] {
  const words = new Set<string>();
  while (words.size < size) {
    const count = 2 + Math.floor(random() * 3);
    let word = '';
    for (let i = 0; i < count; i++) word += SYLLABLES[Math.floor(random() * SYLLABLES.length)]!;
    words.add(word);
  }
  return [...words];
}

/** A few paragraphs of words from the vocabulary: about 80 to 300 words. */
export function documentText(random: () => number, words: readonly string[], title: string): string {
  const paragraphs: string[] = [`# ${title}`];
  const count = 1 + Math.floor(random() * 3);
  for (let p = 0; p < count; p++) {
    const sentences: string[] = [];
    const sentenceCount = 3 + Math.floor(random() * 5);
    for (let s = 0; s < sentenceCount; s++) {
      const length = 6 + Math.floor(random() * 12);
      const sentence = Array.from({ length }, () => words[Math.floor(random() * words.length)]!).join(' ');
      sentences.push(`${sentence[0]!.toUpperCase()}${sentence.slice(1)}.`);
    }
    paragraphs.push(sentences.join(' '));
  }
  return `${paragraphs.join('\n\n')}\n`;
}

export interface ArchiveLayout {
  /** Documents to generate. */
  readonly documents: number;
  /** Departments (top folders), at most 8. */
  readonly departments?: number;
  /** Years under each department. */
  readonly years?: number;
  readonly seed?: number;
}

/** Where the i-th document of an archive goes, relative to its root: dept/year/month/kind-dept-year-month-i.ext */
export function archivePath(index: number, layout: ArchiveLayout): string {
  const departments = Math.min(layout.departments ?? 5, DEPARTMENTS.length);
  const years = layout.years ?? 4;
  const folders = departments * years * 12;
  const folder = index % folders;
  const dept = DEPARTMENTS[folder % departments]!;
  const year = 2019 + (Math.floor(folder / departments) % years);
  const month = String(1 + Math.floor(folder / (departments * years))).padStart(2, '0');
  const kind = KINDS[index % KINDS.length]!;
  // Markdown for one in eight, so more than one reader runs.
  const ext = index % 8 === 7 ? 'md' : 'txt';
  return path.join(dept, String(year), month, `${kind}-${dept}-${year}-${month}-${String(index).padStart(5, '0')}.${ext}`);
}

export interface WrittenArchive {
  readonly root: string;
  readonly documents: number;
  readonly folders: number;
  /** Files Soberana does not read (skipped when a folder is walked). */
  readonly unsupported: readonly string[];
  /** Files named as documents that cannot be read (they end up failed). */
  readonly broken: readonly string[];
}

/** Writes an archive under `root`: `layout.documents` readable files, 3 unsupported, 3 broken. */
export async function writeArchive(root: string, layout: ArchiveLayout): Promise<WrittenArchive> {
  const random = prng(layout.seed ?? 1);
  const words = vocabulary(random);
  const folders = new Set<string>();
  const files: { file: string; text: string }[] = [];
  for (let i = 0; i < layout.documents; i++) {
    const relative = archivePath(i, layout);
    folders.add(path.dirname(relative));
    files.push({ file: path.join(root, relative), text: documentText(random, words, path.basename(relative)) });
  }
  for (const folder of folders) await mkdir(path.join(root, folder), { recursive: true });
  // Written in runs: thousands of open files at once would hit the descriptor limit.
  for (let at = 0; at < files.length; at += 256) await Promise.all(files.slice(at, at + 256).map(({ file, text }) => writeFile(file, text)));

  const first = path.join(root, [...folders][0] ?? '');
  const unsupported = ['budget.xlsx', 'scan.tiff', 'setup.exe'].map((name) => path.join(first, name));
  for (const file of unsupported) await writeFile(file, Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0x00]));
  // A PDF and a Word file that are neither, and a PDF cut off after its header: each fails with its own reason.
  const broken = [
    { name: 'scanned-letter.pdf', body: Buffer.from('<!doctype html><title>Sign in</title>') },
    { name: 'draft.docx', body: Buffer.from('not a zip archive at all') },
    { name: 'truncated.pdf', body: Buffer.from('%PDF-1.7\n1 0 obj\n<< /Type /Catalog') },
  ].map(({ name, body }) => ({ file: path.join(first, name), body }));
  for (const { file, body } of broken) await writeFile(file, body);
  return { root, documents: layout.documents, folders: folders.size, unsupported, broken: broken.map(({ file }) => file) };
}

/** Text for the n-th message of a conversation: short questions, longer answers. */
export function messageText(random: () => number, words: readonly string[], role: 'user' | 'assistant'): string {
  const length = role === 'user' ? 8 + Math.floor(random() * 20) : 40 + Math.floor(random() * 120);
  const text = Array.from({ length }, () => words[Math.floor(random() * words.length)]!).join(' ');
  return role === 'user' ? `${text[0]!.toUpperCase()}${text.slice(1)}?` : `${text[0]!.toUpperCase()}${text.slice(1)}.`;
}
