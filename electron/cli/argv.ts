// Global options go anywhere on the command line, as with git, npm and docker:
// `soberana --data-dir D doctor` is `soberana doctor --data-dir D`. They are taken out of
// argv before the command is looked up, so an option's value is never read as a command
// (`soberana --data-dir doctor doctor` uses the folder "doctor") and what is left is the
// command's words followed by its own arguments.
//
// `--version` is not among them: `bundle create --version N` has an option of that name,
// so the program's version is only printed when no command is given.

export interface GlobalOptions {
  readonly dataDir?: string;
  readonly json: boolean;
  readonly help: boolean;
}

export type SplitArgv =
  | {
      readonly ok: true;
      readonly globals: GlobalOptions;
      /** The command's words ("models import"), or null when argv names none. */
      readonly command: string | null;
      /** Everything else, in order: the command's own options and arguments (or, without a command, whatever was not understood). */
      readonly rest: readonly string[];
    }
  | { readonly ok: false; readonly message: string };

/** Pure: argv without its global options, the command it names (one or two words), and the rest. */
export function splitArgv(argv: readonly string[], isCommand: (name: string) => boolean): SplitArgv {
  let dataDir: string | undefined;
  let json = false;
  let help = false;
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i]!;
    if (arg === '--') {
      // After `--` everything is an argument, even words that look like options.
      rest.push(...argv.slice(i));
      break;
    }
    if (arg === '--json') json = true;
    else if (arg === '--help' || arg === '-h') help = true;
    else if (arg.startsWith('--data-dir=')) dataDir = arg.slice('--data-dir='.length);
    else if (arg === '--data-dir') {
      const value = argv[i + 1];
      if (value === undefined || value === '--') return { ok: false, message: '--data-dir needs a folder.' };
      dataDir = value;
      i += 1;
    } else rest.push(arg);
  }
  const globals: GlobalOptions = { json, help, ...(dataDir === undefined ? {} : { dataDir }) };
  const [first, second] = rest;
  if (first === undefined || first.startsWith('-')) return { ok: true, globals, command: null, rest };
  if (second !== undefined && isCommand(`${first} ${second}`)) return { ok: true, globals, command: `${first} ${second}`, rest: rest.slice(2) };
  if (isCommand(first)) return { ok: true, globals, command: first, rest: rest.slice(1) };
  return { ok: true, globals, command: null, rest };
}
