import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../../../common/result.ts';
import { LIMITS } from './format.ts';

// A knowledge pack's acceptance checks (checks.json, optional): questions with the document
// (and page) that must answer them, and optionally phrases the answer must hold. They are the
// publisher's promise about the pack, checked on the machine that installs it (checks/run.ts).
//
//   [{ "id": "tide-tables", "question": "When is high water at Saltmarsh?",
//      "expect": { "document": "atlas.pdf", "page": 2 }, "answerPhrases": ["high water"] }, …]
//
// `expect.document` is the document's name in the pack or its SHA-256.

export const CHECKS_FILE = 'checks.json';
export const MAX_CHECKS = LIMITS.checks;
/** 1,000 checks with long questions and phrases fit well inside this. */
const MAX_CHECKS_BYTES = 4 * 1024 * 1024;

export const packCheckSchema = z.strictObject({
  id: z
    .string()
    .trim()
    .min(1)
    .max(128)
    .regex(/^[\p{L}\p{N}._:-]+$/u, 'letters, digits, ".", "_", ":" or "-"'),
  question: z.string().trim().min(1).max(2_000),
  expect: z.strictObject({
    document: z.string().trim().min(1).max(1_000),
    page: z.int().min(1).max(LIMITS.pages).optional(),
  }),
  answerPhrases: z.array(z.string().trim().min(1).max(500)).min(1).max(20).optional(),
});

export const packChecksSchema = z
  .array(packCheckSchema)
  .max(MAX_CHECKS)
  .superRefine((checks, ctx) => {
    const seen = new Map<string, number>();
    checks.forEach((check, index) => {
      const first = seen.get(check.id);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: [index, 'id'], message: `the same id as check ${first + 1} (${check.id})` });
      else seen.set(check.id, index);
    });
  });

export type PackCheck = z.infer<typeof packCheckSchema>;

/** The documents a check may name: by name or by SHA-256, with their page counts. */
export interface CheckableDocument {
  readonly name: string;
  readonly sha256: string;
  readonly pageCount: number | null;
}

const issues = (error: z.ZodError) => error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`).join('; ');

/** Parses checks from JSON text; `where` names the file in the messages. Each expected document must be one of `documents`. */
export function parseChecks(text: string, documents: readonly CheckableDocument[], where: string): PackCheck[] {
  let raw: unknown;
  try {
    raw = JSON.parse(text.replace(/^\uFEFF/u, ''));
  } catch (error) {
    throw new AppError('bad_request', `${where} is not JSON.`, error instanceof Error ? error.message : String(error));
  }
  const parsed = packChecksSchema.safeParse(raw);
  if (!parsed.success) throw new AppError('bad_request', `${where} does not hold valid checks.`, issues(parsed.error));
  for (const [index, check] of parsed.data.entries()) {
    const wanted = check.expect.document;
    const document = documents.find((candidate) => candidate.name === wanted || candidate.sha256 === wanted.toLowerCase());
    if (document === undefined)
      throw new AppError('bad_request', `Check ${index + 1} (${check.id}) of ${where} expects “${wanted}”, which is not a document of the collection.`);
    if (check.expect.page !== undefined && document.pageCount !== null && check.expect.page > document.pageCount)
      throw new AppError(
        'bad_request',
        `Check ${index + 1} (${check.id}) of ${where} expects page ${check.expect.page} of “${document.name}”, which has ${document.pageCount} pages.`,
      );
  }
  return parsed.data;
}

/** Reads a checks file, refusing one too large to be checks. */
export async function readChecksFile(file: string, documents: readonly CheckableDocument[]): Promise<PackCheck[]> {
  const info = await stat(file).catch(() => null);
  if (info?.isFile() !== true) throw new AppError('not_found', `${file} is not a file.`);
  if (info.size > MAX_CHECKS_BYTES) throw new AppError('bad_request', `${path.basename(file)} has ${info.size} bytes; checks fit in ${MAX_CHECKS_BYTES}.`);
  return parseChecks(await readFile(file, 'utf8'), documents, path.basename(file));
}
