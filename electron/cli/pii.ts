import { readFile } from 'node:fs/promises';
import { applyPiiPolicy, type PiiMode } from '../main/services/pii/index.ts';
import { UsageError, type Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

const MODES: readonly PiiMode[] = ['warn', 'redact', 'block'];

async function readInput(source: string): Promise<string> {
  if (source === '-') {
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
    return Buffer.concat(chunks).toString('utf8');
  }
  try {
    return await readFile(source, 'utf8');
  } catch (error) {
    // A path that is not a readable file is a wrong argument, not a failure of Soberana.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'EISDIR' || code === 'EACCES' || code === 'ENOTDIR') throw new UsageError(`Cannot read "${source}" (${code}).`);
    throw error;
  }
}

export const piiScan: Command = {
  summary: 'Find personal data (e-mails, phones, IBANs, cards, IDs…) in a file',
  help: `Usage: soberana pii scan <file | -> [--mode warn|redact|block] [--show-values]

Scans the file (standard input when the argument is "-") for e-mail addresses, phone
numbers, IBANs, payment card numbers, IP addresses, Spanish DNI/NIE, US SSNs and dates
of birth, and prints one JSON line per finding:

  {"type":"iban","start":12,"end":41,"action":"warn"}

start and end are UTF-16 offsets into the text (end exclusive); action is what the
given policy mode does with the finding (default warn). The matched value is left out
unless --show-values is given. Nothing is written anywhere else.

Options:
  --mode MODE      warn, redact or block (default warn)
  --show-values    Add "value" to each line

Exit codes: 0 nothing found, 1 personal data found, 2 bad usage, 3 internal error.`,
  options: {
    mode: { type: 'string', default: 'warn' },
    'show-values': { type: 'boolean', default: false },
  },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values, output }) {
    const mode = values.mode;
    if (typeof mode !== 'string' || !(MODES as readonly string[]).includes(mode)) throw new UsageError(`--mode takes ${MODES.join(', ')}.`);
    const text = await readInput(positionals[0]!);
    const result = applyPiiPolicy(text, mode as PiiMode);
    for (const { type, start, end, value } of result.findings) {
      output.out(JSON.stringify(values['show-values'] === true ? { type, start, end, action: mode, value } : { type, start, end, action: mode }));
    }
    if (result.reason !== undefined) output.err(result.reason);
    return result.findings.length === 0 ? EXIT.ok : EXIT.problem;
  },
};
