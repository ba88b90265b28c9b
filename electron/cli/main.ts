import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../main/services/data-dir.ts';
import { product } from '../main/services/product.ts';
import { auditExport, auditVerify } from './audit.ts';
import { bundleCreate, bundleInspect, bundleInstall, bundleList, bundlePack, bundleSign, bundleUninstall, bundleVerify } from './bundle.ts';
import { chat } from './chat.ts';
import { UsageError, type Command, type CommandValues, type OptionSpec } from './command.ts';
import { doctorCommand } from './doctor.ts';
import { EXIT } from './exit-codes.ts';
import { ggufCheck } from './gguf-check.ts';
import { keysGenerate, keysList, keysShow, keysTrust, keysUntrust } from './keys.ts';
import { knowledgeAsk, knowledgeCollections, knowledgeCreate, knowledgeExport, knowledgeIngest, knowledgeSearch } from './knowledge.ts';
import { modelsImport, modelsInspect, modelsList, modelsRemove, modelsVerify } from './models.ts';
import { consoleOutput } from './output.ts';
import { piiScan } from './pii.ts';
import { policyShow, policyValidate } from './policy.ts';
import { generate, runtimeInfo } from './runtime-commands.ts';

// Each later feature adds its commands here. A name may have two words ("runtime info").
export const COMMANDS: Readonly<Record<string, Command>> = {
  doctor: doctorCommand,
  'runtime info': runtimeInfo,
  'gguf check': ggufCheck,
  'models import': modelsImport,
  'models list': modelsList,
  'models inspect': modelsInspect,
  'models verify': modelsVerify,
  'models remove': modelsRemove,
  generate,
  chat,
  'knowledge collections': knowledgeCollections,
  'knowledge create': knowledgeCreate,
  'knowledge ingest': knowledgeIngest,
  'knowledge search': knowledgeSearch,
  'knowledge ask': knowledgeAsk,
  'knowledge export': knowledgeExport,
  'audit verify': auditVerify,
  'audit export': auditExport,
  'pii scan': piiScan,
  'policy validate': policyValidate,
  'policy show': policyShow,
  'keys generate': keysGenerate,
  'keys show': keysShow,
  'keys trust': keysTrust,
  'keys list': keysList,
  'keys untrust': keysUntrust,
  'bundle create': bundleCreate,
  'bundle pack': bundlePack,
  'bundle sign': bundleSign,
  'bundle inspect': bundleInspect,
  'bundle verify': bundleVerify,
  'bundle install': bundleInstall,
  'bundle list': bundleList,
  'bundle uninstall': bundleUninstall,
};

const NAME_WIDTH = Math.max(...Object.keys(COMMANDS).map((name) => name.length));

const GLOBAL_OPTIONS: OptionSpec = {
  'data-dir': { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
  version: { type: 'boolean', default: false },
};

const GLOBAL_HELP = `Usage: soberana <command> [--data-dir DIR] [--json]

Soberana's command line. It uses the same services as the app and never opens a
network connection.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(NAME_WIDTH)}  ${command.summary}`)
  .join('\n')}

Options (every command):
  --data-dir DIR  Data directory (default: the app's, or $SOBERANA_DATA_DIR)
  --json          Machine-readable output
  -h, --help      Help for the command
  --version       Print the version

Exit codes: 0 ok, 1 the command found a problem, 2 bad usage, 3 internal error.`;

/** The command named by the leading words of argv, and the arguments after them. */
function findCommand(argv: readonly string[]): { name: string; command: Command; rest: string[] } | null {
  const [first, second] = argv;
  if (first === undefined || first[0] === '-') return null;
  const two = second === undefined ? '' : `${first} ${second}`;
  if (two !== '' && Object.hasOwn(COMMANDS, two)) return { name: two, command: COMMANDS[two]!, rest: argv.slice(2) };
  if (Object.hasOwn(COMMANDS, first)) return { name: first, command: COMMANDS[first]!, rest: argv.slice(1) };
  return null;
}

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const found = findCommand(argv);
  if (found === null) {
    let values;
    let positionals;
    try {
      ({ values, positionals } = parseArgs({ args: [...argv], options: GLOBAL_OPTIONS, allowPositionals: true, strict: true }));
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${GLOBAL_HELP}\n`);
      return EXIT.usage;
    }
    const output = consoleOutput(values.json === true);
    if (values.version === true) {
      output.out(values.json === true ? JSON.stringify({ version: product.version }) : product.version);
      return EXIT.ok;
    }
    // parseArgs's positionals, not every word without a dash: an option's value (--data-dir DIR) is not a command.
    const [name] = positionals;
    if (name !== undefined) {
      output.err(`Unknown command "${name}". Run "soberana --help" for the list.`);
      return EXIT.usage;
    }
    (values.help === true ? output.out : output.err)(GLOBAL_HELP);
    return values.help === true ? EXIT.ok : EXIT.usage;
  }

  const { name, command, rest } = found;
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${command.help}\n`);
    return EXIT.usage;
  }
  const { values, positionals } = parsed;
  const output = consoleOutput(values.json === true);
  if (values.help === true) {
    output.out(command.help);
    return EXIT.ok;
  }
  const allowed = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length < allowed.min || positionals.length > allowed.max) {
    output.err(`${positionals.length > allowed.max ? `Unexpected argument "${positionals[allowed.max]}".` : 'Missing argument.'}\n\n${command.help}`);
    return EXIT.usage;
  }
  const dataDirValue = values['data-dir'];
  if (dataDirValue === '') {
    output.err('--data-dir needs a folder.');
    return EXIT.usage;
  }
  const dataDir = typeof dataDirValue === 'string' ? path.resolve(dataDirValue) : defaultDataDir(process.platform, env);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await command.run({ dataDir, output, values: values as CommandValues, positionals, signal: controller.signal });
  } catch (error) {
    if (error instanceof UsageError) {
      output.err(`${error.message}\n\n${command.help}`);
      return EXIT.usage;
    }
    output.err(`soberana ${name} failed: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT.internal;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}
