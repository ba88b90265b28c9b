import type { Database } from '../storage/sqlite.ts';
import type { OcrPageWords, OcrWord } from './types.ts';

/** The words OCR read on each scanned page, with their boxes: what the viewer marks cited words with. */
export interface OcrPageStore {
  /** Replaces the document's recognised pages (none: removes them). */
  replaceOcrPages(documentId: string, pages: readonly OcrPageWords[]): void;
  /** One recognised page, or null when the page was not read by OCR. */
  ocrPage(documentId: string, page: number): OcrPageWords | null;
  /** Every recognised page of the document, in page order. */
  ocrPages(documentId: string): OcrPageWords[];
}

interface Row {
  page: number;
  width: number;
  height: number;
  words: string;
}

// Words are kept compactly, as [text, left, top, width, height, confidence] arrays.
type StoredWord = [string, number, number, number, number, number];

function fromRow(row: Row): OcrPageWords {
  const words = (JSON.parse(row.words) as StoredWord[]).map(([text, left, top, width, height, confidence]): OcrWord => ({
    text,
    box: [left, top, width, height],
    confidence,
  }));
  return { page: row.page, width: row.width, height: row.height, words };
}

export function createOcrPageStore(db: Database): OcrPageStore {
  return {
    replaceOcrPages(documentId, pages) {
      db.prepare('DELETE FROM ocr_pages WHERE document_id = ?').run(documentId);
      const insert = db.prepare('INSERT INTO ocr_pages (document_id, page, width, height, words) VALUES (?, ?, ?, ?, ?)');
      for (const page of pages) {
        const words: StoredWord[] = page.words.map((w) => [w.text, ...w.box, w.confidence] as StoredWord);
        insert.run(documentId, page.page, page.width, page.height, JSON.stringify(words));
      }
    },
    ocrPage(documentId, page) {
      const row = db.prepare('SELECT page, width, height, words FROM ocr_pages WHERE document_id = ? AND page = ?').get(documentId, page) as unknown as
        Row | undefined;
      return row === undefined ? null : fromRow(row);
    },
    ocrPages(documentId) {
      const rows = db.prepare('SELECT page, width, height, words FROM ocr_pages WHERE document_id = ? ORDER BY page').all(documentId) as unknown as Row[];
      return rows.map(fromRow);
    },
  };
}
