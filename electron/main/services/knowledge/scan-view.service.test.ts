import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPage } from '../../../test-support/scanned-pages.ts';
import { allDocuments } from '../../../test-support/knowledge-documents.ts';
import { createCore, type Core } from '../core.ts';

// The viewer's view of a PNG scan, through the real knowledge service (extraction worker with
// Tesseract, SQLite): the picture itself, to draw, and the words OCR read on it with their
// boxes in that picture's pixels, to mark the cited ones. One small page: OCR is slow.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const LINES = ['The harbour board approved the Wexcombe dredging', 'contract on the third of March.'];

let dir: string;
let core: Core;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-scan-view-'));
  core = await createCore({ dataDir: path.join(dir, 'data'), host: HOST });
});

afterAll(async () => {
  await core.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the view of an image document', () => {
  it('sends a PNG scan as its picture, with the OCR word boxes in its pixels; a text document has no picture', async () => {
    const page = renderPage({ lines: LINES, dpi: 150, widthInches: 5.5 });
    const scan = path.join(dir, 'harbour.png');
    const notes = path.join(dir, 'notes.txt');
    await writeFile(scan, page.bytes);
    await writeFile(notes, 'Plain notes about the harbour.');
    const collection = await core.knowledge.createCollection('Scans', null);
    await core.knowledge.addPaths(collection.id, [scan, notes]);
    await core.knowledge.idle();

    const documents = allDocuments(core.knowledge, collection.id);
    const png = documents.find((document) => document.name === 'harbour.png');
    expect(png).toMatchObject({ status: 'indexed', format: 'png' });
    const view = await core.knowledge.view(png!.id);
    expect(view.pdfBase64).toBeNull();
    expect(view.image?.mime).toBe('image/png');
    expect(Buffer.from(view.image!.base64, 'base64').equals(Buffer.from(page.bytes))).toBe(true);
    const [words] = view.scanPages ?? [];
    expect(words).toMatchObject({ page: 1, width: page.width, height: page.height });
    const dredging = words?.words.find((word) => word.text === 'dredging');
    expect(dredging?.box[2]).toBeGreaterThan(0);
    expect(dredging!.box[0] + dredging!.box[2]).toBeLessThanOrEqual(page.width);
    expect(view.chunks.map((chunk) => chunk.text).join(' ')).toContain('Wexcombe');

    const text = documents.find((document) => document.name === 'notes.txt');
    expect((await core.knowledge.view(text!.id)).image).toBeNull();
  }, 240_000);
});
