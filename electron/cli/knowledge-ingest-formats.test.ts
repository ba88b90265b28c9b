import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { csvDocument, writeDocuments } from '../../e2e/fixtures/documents/index.ts';
import { emailDocument } from '../../e2e/fixtures/documents/email.ts';
import { odsDocument, xlsxDocument, zipBombXlsx } from '../../e2e/fixtures/documents/sheets.ts';
import type { SearchResult } from '../common/contract/index.ts';
import { runCli } from '../test-support/run-cli.ts';
import { pngHeaderOnly, renderPage } from '../test-support/scanned-pages.ts';

// Issue 16's acceptance for the CLI: `knowledge ingest` handles the new formats with the same
// progress and per-file errors. The built CLI on one folder of what an office holds (a
// workbook, a LibreOffice sheet, a CSV, a PNG scan, an e-mail with an attachment), hostile
// files of those formats (an XLSX zip bomb, a PNG declaring a huge picture, an e-mail whose
// headers are too large) and a program it cannot read: the summary counts each, every
// failure names its own reason, and search then finds a value by its column name, a word
// read from the scan and a word only in the attachment, each cited as such.

let dir: string;
let dataDir: string;
let office: string;

const cli = (...args: string[]) => runCli(args, { dataDir, timeoutMs: 300_000 });

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-formats-'));
  dataDir = path.join(dir, 'data');
  office = path.join(dir, 'office');
  const suppliers: (string | number | { value: number; format: string })[][] = [['Supplier', 'Warehouse', 'Unit cost']];
  for (let i = 1; i <= 60; i++)
    suppliers.push([i === 42 ? 'Brindlewick Farms' : `Supplier ${i}`, `Depot ${i % 5}`, { value: i * 1.25, format: '"$"#,##0.00' }]);
  // One small page keeps OCR short on a busy machine.
  const scan = renderPage({ lines: ['The Harrowgate ferry timetable changes in April.'], dpi: 150, widthInches: 5 });
  await writeDocuments(office, {
    'suppliers.xlsx': xlsxDocument([{ name: 'Suppliers', rows: suppliers }]),
    'budget.ods': odsDocument([{ name: 'Budget', rows: [{ cells: ['Line', 'Amount'] }, { cells: ['Tollhaven repairs', { text: '1,200', value: 1200 }] }] }]),
    'ledger.csv': csvDocument([
      ['Account', 'Balance'],
      ['Marlowmere', '310'],
      ['Other', '12'],
    ]),
    'timetable.png': scan.bytes,
    'offer.eml': emailDocument({
      subject: 'Offer for the depot',
      text: 'The terms are attached.',
      attachments: [{ filename: 'terms.txt', mimeType: 'text/plain', content: 'Delivery to the quillbarrow depot within thirty days.' }],
    }),
    'bomb.xlsx': zipBombXlsx(),
    'bomb.png': pngHeaderOnly(100_000, 100_000),
    'broken.eml': new TextEncoder().encode(`From: a@example.org\r\nX-Junk: ${'q'.repeat(2 * 1024 * 1024)}\r\nSubject: x\r\n\r\nbody\r\n`),
  });
  await writeFile(path.join(office, 'setup.exe'), Buffer.from('MZ not a document'));
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana knowledge ingest on the new formats', () => {
  it('counts added, failed and skipped, gives each failure its reason, and finds sheets, scans and attachments', { timeout: 600_000 }, () => {
    const run = cli('knowledge', 'ingest', office, '--collection', 'Office', '--create', '--embedding-model', 'none');
    expect(run.status, run.stderr).toBe(1);
    // Six added: the workbook, the ODS, the CSV, the scan, the message and its attachment.
    expect(run.stdout).toMatch(/^added 6, unchanged 0, failed 3, skipped 1 — \d+ pages in [\d.]+ s into “Office”$/m);
    expect(run.stderr).toMatch(/^progress: 100%, \d+ of \d+ files, \d+ pages, (?:[\d.]+|--) pages\/s$/m);
    expect(run.stderr).toMatch(/^failed {3}.*bomb\.xlsx\n {2}zip_bomb: .*zip bomb\.$/m);
    expect(run.stderr).toMatch(/^failed {3}.*bomb\.png\n {2}too_large: .*100,000 × 100,000 pixels .*megapixel limit/m);
    expect(run.stderr).toMatch(/^failed {3}.*broken\.eml\n {2}too_large: This e-mail's headers are larger than 1 MB, so it was not read\./m);
    expect(run.stderr).toMatch(/^skipped {2}.*setup\.exe\n {2}unsupported: Soberana cannot read \.exe files\./m);
    // Each failure is listed once, and nothing else failed or was skipped.
    expect(run.stderr.match(/^failed /gm)).toHaveLength(3);
    expect(run.stderr.match(/^skipped /gm)).toHaveLength(1);

    const search = (query: string) => {
      const result = cli('knowledge', 'search', '--collection', 'Office', query, '--json');
      expect(result.status, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as SearchResult).passages;
    };

    // A value found by its column's name: the header row is in the passage, which cites its sheet and rows.
    const [row] = search('Supplier Brindlewick unit cost');
    expect(row).toMatchObject({ documentName: 'suppliers.xlsx', headingPath: ['Suppliers'] });
    expect(row!.text).toContain('Unit cost');
    expect(row!.text).toMatch(/Brindlewick Farms \| Depot 2 \| \$52\.50/);
    const [first, last] = row!.rows!;
    expect(first).toBeLessThanOrEqual(43);
    expect(last).toBeGreaterThanOrEqual(43);
    const text = cli('knowledge', 'search', '--collection', 'Office', 'Supplier Brindlewick unit cost');
    expect(text.stdout).toMatch(/^1\. suppliers\.xlsx, section “Suppliers”, rows \d+–\d+ /m);

    // A word read by OCR from the PNG, cited as coming from a scan.
    const [scanned] = search('Harrowgate ferry');
    expect(scanned).toMatchObject({ documentName: 'timetable.png', page: 1 });
    expect(scanned!.ocrConfidence).toBeGreaterThan(0);
    expect(cli('knowledge', 'search', '--collection', 'Office', 'Harrowgate ferry').stdout).toMatch(/^1\. timetable\.png, page 1, from a scan /m);

    // A word only in the attachment, cited as the attachment of its message.
    const [attached] = search('quillbarrow');
    expect(attached).toMatchObject({ documentName: 'terms.txt (attachment of “Offer for the depot”)' });

    // The ODS and CSV are searchable too.
    expect(search('Tollhaven')[0]).toMatchObject({ documentName: 'budget.ods', headingPath: ['Budget'] });
    expect(search('Marlowmere')[0]).toMatchObject({ documentName: 'ledger.csv' });
  });
});
