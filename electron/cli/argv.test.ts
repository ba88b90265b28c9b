import { describe, expect, it } from 'vitest';
import { splitArgv } from './argv.ts';

const COMMANDS = new Set(['doctor', 'models import', 'models list', 'generate', 'bundle create']);
const split = (...argv: string[]) => splitArgv(argv, (name) => COMMANDS.has(name));

describe('splitArgv: global options anywhere', () => {
  it('finds the command after global options, as with git, npm and docker', () => {
    expect(split('--data-dir', 'D', 'doctor')).toEqual({ ok: true, globals: { dataDir: 'D', json: false, help: false }, command: 'doctor', rest: [] });
    expect(split('--data-dir', 'D', 'models', 'import', 'X', '--mode', 'copy')).toEqual({
      ok: true,
      globals: { dataDir: 'D', json: false, help: false },
      command: 'models import',
      rest: ['X', '--mode', 'copy'],
    });
  });

  it('reads them after the command and between its arguments just the same', () => {
    const expected = { ok: true, globals: { dataDir: 'D', json: true, help: false }, command: 'models import', rest: ['X', '--mode', 'copy'] };
    expect(split('models', 'import', 'X', '--mode', 'copy', '--data-dir', 'D', '--json')).toEqual(expected);
    expect(split('--json', 'models', 'import', 'X', '--data-dir=D', '--mode', 'copy')).toEqual(expected);
    expect(split('models', '--json', 'import', 'X', '--mode', 'copy', '--data-dir', 'D')).toEqual(expected);
  });

  it('takes --data-dir=D and --data-dir D, the last one winning', () => {
    expect(split('--data-dir=/a b', 'doctor')).toMatchObject({ globals: { dataDir: '/a b' }, command: 'doctor' });
    expect(split('--data-dir', 'A', 'doctor', '--data-dir=B')).toMatchObject({ globals: { dataDir: 'B' }, command: 'doctor' });
    expect(split('--data-dir=', 'doctor')).toMatchObject({ globals: { dataDir: '' }, command: 'doctor' });
  });

  it('never reads the value of --data-dir as the command', () => {
    expect(split('--data-dir', 'doctor', 'doctor')).toMatchObject({ globals: { dataDir: 'doctor' }, command: 'doctor', rest: [] });
    expect(split('--data-dir', 'doctor')).toEqual({ ok: true, globals: { dataDir: 'doctor', json: false, help: false }, command: null, rest: [] });
    expect(split('--data-dir', 'models', 'models', 'list')).toMatchObject({ globals: { dataDir: 'models' }, command: 'models list', rest: [] });
  });

  it('refuses --data-dir without a value', () => {
    expect(split('doctor', '--data-dir')).toEqual({ ok: false, message: '--data-dir needs a folder.' });
    expect(split('--data-dir', '--', 'doctor')).toEqual({ ok: false, message: '--data-dir needs a folder.' });
  });

  it('takes --help and -h anywhere', () => {
    expect(split('-h', 'doctor')).toMatchObject({ globals: { help: true }, command: 'doctor' });
    expect(split('models', 'import', '--help')).toMatchObject({ globals: { help: true }, command: 'models import', rest: [] });
    expect(split('--help')).toMatchObject({ globals: { help: true }, command: null, rest: [] });
  });

  it('leaves --version, unknown options and unknown words to the caller', () => {
    // bundle create has its own --version option.
    expect(split('bundle', 'create', '--version', '3')).toMatchObject({ command: 'bundle create', rest: ['--version', '3'] });
    expect(split('--version')).toMatchObject({ command: null, rest: ['--version'] });
    expect(split('--frobnicate', 'doctor')).toMatchObject({ command: null, rest: ['--frobnicate', 'doctor'] });
    expect(split('--json', 'doctr')).toMatchObject({ globals: { json: true }, command: null, rest: ['doctr'] });
  });

  it('keeps everything after -- as arguments', () => {
    expect(split('generate', '--data-dir', 'D', '--', '--json', '-h')).toMatchObject({
      globals: { dataDir: 'D', json: false, help: false },
      command: 'generate',
      rest: ['--', '--json', '-h'],
    });
  });
});
