import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../main/services/data-dir.ts';
import { product } from '../main/services/product.ts';
import { doctor, DOCTOR_HELP } from './doctor.ts';
import { EXIT } from './exit-codes.ts';
import { consoleOutput, type Output } from './output.ts';

interface Command {
  readonly summary: string;
  readonly help: string;
  run(dataDir: string, output: Output): Promise<number>;
}

// Each later feature adds its commands here.
const COMMANDS: Readonly<Record<string, Command>> = {
  doctor: { summary: 'Show versions, the data directory and health checks', help: DOCTOR_HELP, run: doctor },
};

const GLOBAL_HELP = `Usage: soberana <command> [--data-dir DIR] [--json]

Soberana's command line. It uses the same services as the app and never opens a
network connection.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(10)} ${command.summary}`)
  .join('\n')}

Options (every command):
  --data-dir DIR  Data directory (default: the app's, or $SOBERANA_DATA_DIR)
  --json          Machine-readable output
  -h, --help      Help for the command
  --version       Print the version

Exit codes: 0 ok, 1 the command found a problem, 2 bad usage, 3 internal error.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        'data-dir': { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', default: false },
      },
    });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${GLOBAL_HELP}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const output = consoleOutput(values.json);
  if (values.version) {
    output.out(values.json ? JSON.stringify({ version: product.version }) : product.version);
    return EXIT.ok;
  }
  const [name, ...rest] = positionals;
  if (name === undefined) {
    (values.help ? output.out : output.err)(GLOBAL_HELP);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (command === undefined) {
    output.err(`Unknown command "${name}". Run "soberana --help" for the list.`);
    return EXIT.usage;
  }
  if (values.help) {
    output.out(command.help);
    return EXIT.ok;
  }
  if (rest.length > 0) {
    output.err(`Unexpected argument "${rest[0]}".\n\n${command.help}`);
    return EXIT.usage;
  }
  if (values['data-dir'] === '') {
    output.err('--data-dir needs a folder.');
    return EXIT.usage;
  }
  const dataDir = values['data-dir'] !== undefined ? path.resolve(values['data-dir']) : defaultDataDir(process.platform, env);
  try {
    return await command.run(dataDir, output);
  } catch (error) {
    output.err(`soberana ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.internal;
  }
}
