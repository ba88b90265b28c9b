import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../core.ts';
import { dataDirMarkerPath } from '../data-dir.ts';
import { noteDataDirMove } from './data-dir-move.ts';

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-move-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('a change of data folder', () => {
  it('is an audit record in the old folder’s log, and the marker then names the new folder', async () => {
    const defaultDir = path.join(dir, 'default');
    const other = path.join(dir, 'elsewhere');
    const policy = path.join(dir, 'no-policy.json');

    let core = await createCore({ dataDir: defaultDir, host: HOST, policyFile: policy });
    expect(await noteDataDirMove({ defaultDir, dataDir: defaultDir, governance: core.governance })).toBe('same');
    await core.close();

    core = await createCore({ dataDir: other, host: HOST, policyFile: policy });
    expect(await noteDataDirMove({ defaultDir, dataDir: other, governance: core.governance })).toBe('moved');
    await core.close();
    expect(JSON.parse(await readFile(dataDirMarkerPath(defaultDir), 'utf8'))).toEqual({ dataDir: other });

    core = await createCore({ dataDir: defaultDir, host: HOST, policyFile: policy });
    const moves = core.audit.log!.list({ type: 'data_dir.changed' });
    expect(moves.map((record) => record.data)).toEqual([{ from: defaultDir, to: other }]);
    expect(core.audit.log!.verify().ok).toBe(true);
    await core.close();
  });
});
