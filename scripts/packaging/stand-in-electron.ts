import { chmod, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

// A STAND-IN for Electron's distribution, for packaging tests on machines where Electron's
// binary cannot be downloaded. It is a folder laid out like Electron's Linux zip, whose
// "executable" is a shell script that says what it is and exits. It carries a fuse wire
// (the sentinel @electron/fuses looks for, then version 1 and eight fuses set as in a fresh
// Electron 45) so that electron-builder flips the fuses on it exactly as on the real
// binary, and the test can read back what it wrote. It never runs the app.

/** @electron/fuses' sentinel: the fuse wire follows it in Electron's binary. */
export const FUSE_SENTINEL = 'dL7pKGdnNz796PbbjQWNKmHXBZaB9tsX';
/** Electron's defaults, in @electron/fuses' order: runAsNode, cookie encryption, NODE_OPTIONS,
 * inspect arguments, asar integrity, only-load-from-asar, browser V8 snapshot, file: privileges. */
const FRESH_FUSES = '10110001';

export const STAND_IN_NOTICE = 'This is a stand-in for the Electron executable, made for packaging tests. It cannot run the app.';

/** Writes the stand-in into `dir` (Electron's Linux layout: `electron`, `resources/`, `locales/`). */
export async function makeStandInElectronDist(dir: string): Promise<string> {
  await mkdir(path.join(dir, 'resources'), { recursive: true });
  await mkdir(path.join(dir, 'locales'), { recursive: true });
  const script = Buffer.from(`#!/bin/sh\n# ${STAND_IN_NOTICE}\necho '${STAND_IN_NOTICE}' >&2\nexit 78\n# `);
  const wire = Buffer.concat([Buffer.from(FUSE_SENTINEL), Buffer.from([1, FRESH_FUSES.length]), Buffer.from(FRESH_FUSES), Buffer.from('\n')]);
  const executable = path.join(dir, 'electron');
  await writeFile(executable, Buffer.concat([script, wire]));
  await chmod(executable, 0o755);
  await writeFile(path.join(dir, 'version'), 'stand-in\n');
  await writeFile(path.join(dir, 'LICENSE'), `${STAND_IN_NOTICE}\n`);
  return dir;
}
