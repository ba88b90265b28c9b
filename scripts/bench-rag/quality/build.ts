import { csvDocument, docxDocument, htmlDocument, markdownDocument, pdfDocument, textDocument, writeDocuments } from '../../../e2e/fixtures/documents/index.ts';
import { SET_DOCUMENTS, type SetDocument } from './documents.ts';
import { proseDocuments, sampleQuotes, type ProseDocument, type Quote } from './real-prose.ts';

// Writes the retrieval set's documents as files the app reads, the way a user would drop them.

async function bytesOf(document: SetDocument): Promise<Uint8Array> {
  const sections = document.sections.map((section) => ({ heading: section.heading, level: 1 as const, paragraphs: section.paragraphs }));
  switch (document.format) {
    case 'pdf':
      return pdfDocument(
        document.sections.map((section) => ({
          blocks: [{ kind: 'heading' as const, text: section.heading }, ...section.paragraphs.map((text) => ({ kind: 'paragraph' as const, text }))],
        })),
        { title: document.title },
      );
    case 'docx':
      return docxDocument(
        document.sections.flatMap((section) => [{ heading: 1 as const, text: section.heading }, ...section.paragraphs.map((text) => ({ text }))]),
        { title: document.title },
      );
    case 'html':
      return htmlDocument({ title: document.title, sections });
    case 'md':
      return markdownDocument({ sections });
    case 'txt':
      return textDocument(document.sections.flatMap((section) => section.paragraphs));
    case 'csv':
      return csvDocument(document.rows ?? []);
  }
}

function proseBytes(document: ProseDocument): Promise<Uint8Array> {
  return pdfDocument(document.pages.map((paragraphs) => ({ blocks: paragraphs.map((text) => ({ kind: 'paragraph' as const, text })) })));
}

export interface BuiltSet {
  /** Every file's path, by name. */
  readonly paths: Record<string, string>;
  readonly quotes: readonly Quote[];
  readonly proseDocuments: readonly ProseDocument[];
}

export async function writeRetrievalSet(dir: string): Promise<BuiltSet> {
  const prose = proseDocuments();
  const files: Record<string, Uint8Array> = {};
  for (const document of SET_DOCUMENTS) files[document.name] = await bytesOf(document);
  for (const document of prose) files[document.name] = await proseBytes(document);
  return { paths: await writeDocuments(dir, files), quotes: sampleQuotes(prose), proseDocuments: prose };
}
