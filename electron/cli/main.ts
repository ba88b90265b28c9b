import path from 'node:path';
import { parseArgs } from 'node:util';
import { defaultDataDir } from '../main/services/data-dir.ts';
import { product } from '../main/services/product.ts';
import { apiTokens } from './api-tokens.ts';
import { auditExport, auditVerify } from './audit.ts';
import { bundleInstall, bundleList, bundleTest, bundleUninstall } from './bundle-install.ts';
import { bundleCreate, bundlePack, bundleSign } from './bundle-publish.ts';
import { bundleInspect, bundleVerify } from './bundle-verify.ts';
import { chat } from './chat.ts';
import { splitArgv } from './argv.ts';
import { UsageError, type Command, type CommandValues, type OptionSpec } from './command.ts';
import { doctorCommand } from './doctor.ts';
import { dossierVerify } from './dossier.ts';
import { EXIT } from './exit-codes.ts';
import { ggufCheck } from './gguf-check.ts';
import { keysGenerate, keysList, keysShow, keysTrust, keysUntrust } from './keys.ts';
import { knowledgeCollections, knowledgeCreate, knowledgeExport } from './knowledge-collections.ts';
import { knowledgeIngest } from './knowledge-ingest.ts';
import { knowledgeAsk, knowledgeSearch } from './knowledge-search.ts';
import { modelsImport, modelsInspect, modelsList, modelsRemove, modelsVerify } from './models.ts';
import { consoleOutput } from './output.ts';
import { piiScan } from './pii.ts';
import { policyShow, policyValidate } from './policy.ts';
import { generate, runtimeInfo } from './runtime-commands.ts';
import { serve } from './serve.ts';

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
  'dossier verify': dossierVerify,
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
  'bundle test': bundleTest,
  'api tokens': apiTokens,
  serve,
};

const NAME_WIDTH = Math.max(...Object.keys(COMMANDS).map((name) => name.length));

// --data-dir, --json and --help are global options, taken out of argv wherever they are (./argv.ts).
// --version prints the program's version when no command is given; commands accept and ignore it,
// unless they have an option of that name (bundle create).
const VERSION_OPTION: OptionSpec = { version: { type: 'boolean', default: false } };

const GLOBAL_HELP = `Usage: soberana [--data-dir DIR] [--json] <command> [options]

Soberana's command line. It uses the same services as the app and never opens a
network connection.

Commands:
${Object.entries(COMMANDS)
  .map(([name, command]) => `  ${name.padEnd(NAME_WIDTH)}  ${command.summary}`)
  .join('\n')}

Options (every command, before or after it):
  --data-dir DIR  Data directory (default: the app's, or $SOBERANA_DATA_DIR)
  --json          Machine-readable output
  -h, --help      Help for the command
  --version       Print the version

Exit codes: 0 ok, 1 the command found a problem, 2 bad usage, 3 internal error.`;

export async function main(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const split = splitArgv(argv, (name) => Object.hasOwn(COMMANDS, name));
  if (!split.ok) {
    process.stderr.write(`${split.message}\n\n${GLOBAL_HELP}\n`);
    return EXIT.usage;
  }
  const { globals } = split;
  if (split.command === null) {
    let values;
    let positionals;
    try {
      ({ values, positionals } = parseArgs({ args: [...split.rest], options: VERSION_OPTION, allowPositionals: true, strict: true }));
    } catch (error) {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${GLOBAL_HELP}\n`);
      return EXIT.usage;
    }
    const output = consoleOutput(globals.json);
    if (values.version === true) {
      output.out(globals.json ? JSON.stringify({ version: product.version }) : product.version);
      return EXIT.ok;
    }
    // Global options and their values are already out of the way: a word left here is not a command.
    const [name] = positionals;
    if (name !== undefined) {
      output.err(`Unknown command "${name}". Run "soberana --help" for the list.`);
      return EXIT.usage;
    }
    (globals.help ? output.out : output.err)(GLOBAL_HELP);
    return globals.help ? EXIT.ok : EXIT.usage;
  }

  const name = split.command;
  const command = COMMANDS[name]!;
  const rest = [...split.rest];
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: { ...VERSION_OPTION, ...command.options }, allowPositionals: true, strict: true });
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n\n${command.help}\n`);
    return EXIT.usage;
  }
  const { positionals } = parsed;
  // The global options were taken out of argv by splitArgv; commands still see them among their values.
  const values: CommandValues = {
    ...(parsed.values as CommandValues),
    json: globals.json,
    help: globals.help,
    ...(globals.dataDir === undefined ? {} : { 'data-dir': globals.dataDir }),
  };
  const output = consoleOutput(globals.json);
  if (globals.help) {
    output.out(command.help);
    return EXIT.ok;
  }
  const allowed = command.positionals ?? { min: 0, max: 0 };
  if (positionals.length < allowed.min || positionals.length > allowed.max) {
    output.err(`${positionals.length > allowed.max ? `Unexpected argument "${positionals[allowed.max]}".` : 'Missing argument.'}\n\n${command.help}`);
    return EXIT.usage;
  }
  if (globals.dataDir === '') {
    output.err('--data-dir needs a folder.');
    return EXIT.usage;
  }
  const dataDir = globals.dataDir === undefined ? defaultDataDir(process.platform, env) : path.resolve(globals.dataDir);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort();
  process.once('SIGINT', onInterrupt);
  try {
    return await command.run({ dataDir, output, values, positionals, signal: controller.signal });
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
