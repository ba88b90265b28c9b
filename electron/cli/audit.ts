import { open, readFile } from 'node:fs/promises';
import path from 'node:path';
import { AppError } from '../common/result.ts';
import { anchorFilePath, exportAudit, isoDate, parseAnchor, readKeyFileForVerify, verifyAudit, type AuditVerification } from '../main/services/audit/index.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { openContext } from '../main/services/domain/context.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';
import type { Output } from './output.ts';

// The audit log from the command line, for the IT team: verify it with the anchor they
// keep, and export it for a SIEM. Both only read: the app is the log's single writer, and
// a second writer would race it for the key file.

function reportError(output: Output, error: unknown): number {
  if (!(error instanceof AppError)) throw error;
  if (output.json) output.out(JSON.stringify({ error: error.toData() }, null, 2));
  else output.err(`${error.message}${error.details === undefined ? '' : `\n  ${error.details}`}`);
  return EXIT.problem;
}

async function readAnchor(file: string): Promise<Buffer> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new AppError('not_found', 'The audit verification anchor is not there. Pass the copy your IT team keeps with --anchor FILE.', file);
    }
    throw new AppError('io_error', 'The audit verification anchor could not be read.', `${file}: ${String(error)}`);
  }
  return parseAnchor(text);
}

function describe(result: AuditVerification): string {
  if (result.records === 0 && result.anchorId === null) return 'The audit log is empty: auditing was never turned on here.';
  const range = result.records === 0 ? 'no records' : `${result.records.toLocaleString('en-US')} records (${result.baseSeq + 1}–${result.lastSeq})`;
  return [
    `${result.ok ? 'ok' : 'BROKEN'}  audit log: ${range}, ${result.checkpoints.toLocaleString('en-US')} checkpoints, sealed through record ${result.sealedThrough}`,
    ...(result.baseSeq > 0 ? [`  records 1–${result.baseSeq} were removed by retention`] : []),
    ...(result.anchorId === null ? [] : [`  anchor id ${result.anchorId.slice(0, 16)}`]),
    ...(result.firstBroken === undefined ? [] : [`  first broken record: ${result.firstBroken.seq}`, `  ${result.firstBroken.reason}`]),
  ].join('\n');
}

export const auditVerify: Command = {
  summary: 'Verify the audit log against its anchor; report the first broken record',
  help: `Usage: soberana audit verify [--anchor FILE] [--json]

Checks the audit log's hash chain, every sealed checkpoint's MAC (with keys derived from
the verification anchor), and the key file's counters, which catch records removed from
the end. Reports the first record that can no longer be trusted.

Options:
  --anchor FILE  The verification anchor: the file written when auditing started, or a
                 file holding its 64 hexadecimal characters (default: the data
                 directory's audit/anchor, if it is still there)

Exit codes: 0 the log verifies, 1 it does not (or the anchor is missing), 2 bad usage,
3 internal error.`,
  options: { anchor: { type: 'string' } },
  async run({ dataDir, output, values }) {
    const anchorFile = typeof values.anchor === 'string' ? path.resolve(values.anchor) : anchorFilePath(dataDir);
    if (values.anchor === '') throw new UsageError('--anchor needs a file.');
    try {
      const anchor = await readAnchor(anchorFile);
      const db = openDatabase(dataDir);
      let result: AuditVerification;
      try {
        result = verifyAudit(db, anchor, { keyFile: readKeyFileForVerify(dataDir) });
      } finally {
        db.close();
        anchor.fill(0);
      }
      if (output.json) output.out(JSON.stringify(result, null, 2));
      else (result.ok ? output.out : output.err)(describe(result));
      return result.ok ? EXIT.ok : EXIT.problem;
    } catch (error) {
      return reportError(output, error);
    }
  },
};

export const auditExport: Command = {
  summary: 'Export the audit log as JSON lines for a SIEM',
  help: `Usage: soberana audit export [--from ISO] [--to ISO] [--out FILE] [--json]

Writes one JSON object per line: a header (format, anchor id, range, purge base), one
line per record in the range, the checkpoints that cover those records, and a footer
with the counts. The verification anchor itself is never exported; give it to the SIEM
once, separately. docs/audit.md describes the format.

Options:
  --from ISO  Only records at or after this time (ISO 8601, e.g. 2025-03-01T00:00:00Z)
  --to ISO    Only records at or before this time
  --out FILE  Write to FILE instead of standard output (--json then prints a summary)

Exit codes: 0 exported, 1 it could not be, 2 bad usage, 3 internal error.`,
  options: { from: { type: 'string' }, to: { type: 'string' }, out: { type: 'string' } },
  async run({ dataDir, output, values }) {
    const range: { from?: string; to?: string } = {};
    for (const name of ['from', 'to'] as const) {
      const value = values[name];
      if (value === undefined) continue;
      if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} needs an ISO 8601 date.`);
      try {
        range[name] = isoDate(value);
      } catch {
        throw new UsageError(`--${name} "${value}" is not an ISO 8601 date (e.g. 2025-03-01T00:00:00Z).`);
      }
    }
    if (range.from !== undefined && range.to !== undefined && range.from > range.to) throw new UsageError('--from is after --to.');
    if (values.out === '') throw new UsageError('--out needs a file.');
    const out = typeof values.out === 'string' ? path.resolve(values.out) : null;
    try {
      // An export like the Audit screen's: the same gate (the policy's export rule, a log that can record it) and the same record.
      const context = await openContext({ dataDir, log: (level, message) => level === 'error' && process.stderr.write(`[soberana] ${message}\n`) });
      try {
        context.gate.check('audit.export');
        const db = context.storage;
        const counts = { records: 0, checkpoints: 0 };
        const count = (line: string) => {
          if (line.startsWith('{"kind":"footer"')) Object.assign(counts, JSON.parse(line) as typeof counts);
          return line;
        };
        if (out === null) {
          for (const line of exportAudit(db, range)) output.out(count(line));
          context.emit({ type: 'export', data: { what: 'audit', format: 'jsonl', items: counts.records } });
          return EXIT.ok;
        }
        const handle = await open(out, 'w', 0o600);
        try {
          for (const line of exportAudit(db, range)) await handle.write(`${count(line)}\n`);
          await handle.sync();
        } finally {
          await handle.close();
        }
        context.emit({ type: 'export', data: { what: 'audit', format: 'jsonl', items: counts.records } });
        const summary = { file: out, records: counts.records, checkpoints: counts.checkpoints };
        output.out(
          output.json
            ? JSON.stringify(summary, null, 2)
            : `Wrote ${counts.records.toLocaleString('en-US')} records and ${counts.checkpoints} checkpoints to ${out}`,
        );
        return EXIT.ok;
      } finally {
        context.close();
      }
    } catch (error) {
      if (error instanceof AppError) return reportError(output, error);
      if ((error as NodeJS.ErrnoException).code !== undefined)
        return reportError(output, new AppError('io_error', 'The export could not be written.', String(error)));
      throw error;
    }
  },
};
