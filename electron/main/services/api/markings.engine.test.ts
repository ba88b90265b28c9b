import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { Marking } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore } from '../core.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';
import type { ApiCompletionRequest, ApiRequestInfo } from './types.ts';

// Classification markings through the local API's service on the real core (issue #18): the
// API's retrieval is the knowledge service's, so a collection above system high is never
// searched; each source carries its marking, the api.request record the highest served; and
// one request may not mix compartments the policy keeps apart.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });
const names = (en: string) => ({ en, es: en });
const POLICY = {
  version: 1,
  markings: {
    levels: [
      { id: 'PUBLIC', names: names('Public'), colour: '#2e7d32' },
      { id: 'RESTRICTED', names: names('Restricted'), colour: '#f9a825' },
      { id: 'SECRET', names: names('Secret'), colour: '#c62828' },
    ],
    compartments: [
      { id: 'FINANCE', names: names('Finance') },
      { id: 'LEGAL', names: names('Legal') },
    ],
    maxLevel: 'RESTRICTED',
    defaultLevel: 'PUBLIC',
    separated: [['FINANCE', 'LEGAL']],
  },
};

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-markings-'));
  model = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(model, { ...presetSpec('tiny', 'Q8_0', 11), name: 'tiny-chat', contextLength: 4096, quietEnd: true });
}, 120_000);

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const info = (endpoint = 'POST /v1/chat/completions'): ApiRequestInfo => ({ endpoint, requestBytes: 64 });
const never = () => new AbortController().signal;
const request = (collections: string[], content: string): ApiCompletionRequest => ({
  model: 'tiny-chat',
  messages: [{ role: 'user', content }],
  prompt: null,
  sampling: {},
  stop: [],
  format: null,
  tools: [],
  toolChoice: 'auto',
  collections,
});

describe('markings through the local API', () => {
  it('never serves what the machine may not hold, marks what it serves, and keeps separated compartments apart', { timeout: 300_000 }, async () => {
    const dataDir = path.join(dir, 'data');
    const policyFile = path.join(dir, 'policy.json');
    await writeFile(policyFile, JSON.stringify(POLICY));
    const core = await createCore({ dataDir, host: HOST, policyFile });
    try {
      const runtime = DEFAULT_SETTINGS.runtime;
      unwrap(
        await core.handlers['settings.update'](
          { runtime: { ...runtime, threads: 1, contextSize: 4096, sampling: { ...runtime.sampling, maxTokens: 4 } } },
          ctx(),
        ),
      );
      const { candidates } = await scanModels(model);
      await importModel(core.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' });
      await core.runtime.start();
      const collection = async (name: string, marking: Marking) => {
        const created = await core.knowledge.createCollection(name, null);
        unwrap(await core.handlers['knowledge.setMarking']({ target: 'collection', id: created.id, marking }, ctx()));
        const file = path.join(dir, `${name}.md`);
        await writeFile(file, `# ${name}\n\nThe ${name} ledger lists one lantern for the watch.\n`);
        await core.knowledge.addPaths(created.id, [file]);
        return created.id;
      };
      const budget = await collection('budget', { level: 'RESTRICTED', compartments: [] });
      const vault = await collection('vault', { level: 'SECRET', compartments: [] });
      const legal = await collection('contracts', { level: 'PUBLIC', compartments: ['LEGAL'] });
      const finance = await collection('accounts', { level: 'PUBLIC', compartments: ['FINANCE'] });
      await core.knowledge.idle();
      const made = core.api.tokens.create({ name: 'Ledger bot', scopes: ['chat', 'knowledge'], expiresAt: null, collections: null });
      const principal = core.api.service.authenticate(made.token, 'chat', info());
      const requests = () =>
        core.audit
          .log!.list({ limit: 10_000 })
          .filter((record) => record.type === 'api.request')
          .map((record) => record.data as Record<string, unknown>);

      const answer = await core.api.service.complete(
        principal,
        request([budget, vault], 'What does the ledger list? lantern'),
        info(),
        () => undefined,
        never(),
      );
      expect(answer.sources.map((source) => source.documentName)).toEqual(['budget.md']);
      expect(answer.sources[0]!.marking).toBe('RESTRICTED');
      expect(requests().at(-1)).toMatchObject({ status: 200, marking: 'RESTRICTED' });

      expect(await core.api.service.search(principal, { collection: vault, query: 'lantern', k: 5 }, info('POST /v1/knowledge/search'), never())).toEqual([]);
      const found = await core.api.service.search(principal, { collection: budget, query: 'lantern', k: 5 }, info('POST /v1/knowledge/search'), never());
      expect(found.map((source) => [source.documentName, source.marking])).toEqual([['budget.md', 'RESTRICTED']]);

      const mixed = await core.api.service
        .complete(principal, request([legal, finance], 'lantern'), info(), () => undefined, never())
        .catch((error: unknown) => error);
      expect(mixed).toMatchObject({ code: 'forbidden', message: expect.stringContaining('FINANCE and LEGAL') });
      expect(requests().at(-1)).toMatchObject({ status: 403 });
    } finally {
      await core.close();
    }
  });
});
