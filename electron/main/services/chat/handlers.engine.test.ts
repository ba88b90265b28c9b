import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, ChatThread, Conversation } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { createEngine } from '../inference/engine.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';

// The chat handlers end to end: the real inference process and node-llama-cpp, on the
// writer's tiny model (quietEnd, so an answer lasts until maxTokens or Stop).
// Needs `engine.chat`, which the inference side is adding: skipped until it exists.
const ENGINE_HAS_CHAT =
  'chat' in
  createEngine({
    launcher: () => {
      throw new Error('never started');
    },
    validate: async () => ({ ok: false, message: 'unused' }),
    quarantine: { reasonFor: () => null, add: () => undefined },
    onState: () => undefined,
  });

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

let dir: string;
let modelFile: string;
const cores: Core[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-engine-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 11), contextLength: 4096, quietEnd: true });
});

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const ctx = (signal: AbortSignal = new AbortController().signal): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

async function start(dataDir: string): Promise<Core> {
  const core = await createCore({ dataDir, host: HOST });
  cores.push(core);
  // threads: 1 on the shared 2-core machines; short answers, since this model never stops by itself.
  unwrap(
    await core.handlers['settings.update'](
      { runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 4096, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 24 } } },
      ctx(),
    ),
  );
  await core.runtime.start();
  return core;
}

async function collect(events: AsyncIterable<ChatEvent>, onEvent?: (event: ChatEvent) => void): Promise<ChatEvent[]> {
  const seen: ChatEvent[] = [];
  for await (const event of events) {
    seen.push(event);
    onEvent?.(event);
  }
  return seen;
}

const final = (events: readonly ChatEvent[]) => {
  const last = events.at(-1);
  if (last?.type !== 'done') throw new Error('no done event');
  return last.message;
};

describe.skipIf(!ENGINE_HAS_CHAT)('chat handlers with the real engine', () => {
  it('send, stop, continue, regenerate, edit and switch branches, then find it all after a restart', { timeout: 180_000 }, async () => {
    const dataDir = path.join(dir, 'data');
    let core = await start(dataDir);
    const { candidates } = await scanModels(modelFile);
    await importModel(core.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' });
    const h = () => core.handlers;
    const conversation: Conversation = unwrap(await h()['chat.create']({}, ctx()));
    expect(conversation.modelId).not.toBeNull();

    const first = await collect(h()['chat.send']({ conversationId: conversation.id, content: 'Hello there' }, ctx()));
    expect(first.map((event) => event.type).filter((type, i, all) => type !== all[i - 1])).toEqual(['user', 'started', 'delta', 'done']);
    const a1 = final(first);
    expect(a1).toMatchObject({ role: 'assistant', status: 'interrupted', modelName: 'tiny-chat', stats: { tokens: 24 } });
    expect(
      first
        .filter((event) => event.type === 'delta')
        .map((event) => (event.type === 'delta' ? event.text : ''))
        .join(''),
    ).toBe(a1.content);

    // Stop midway: the partial answer stays, interrupted.
    unwrap(
      await h()['chat.update'](
        { id: conversation.id, settings: { ...conversation.settings, sampling: { ...conversation.settings.sampling, maxTokens: 2000 } } },
        ctx(),
      ),
    );
    const controller = new AbortController();
    let deltas = 0;
    const stopped = await collect(h()['chat.send']({ conversationId: conversation.id, content: 'Tell me more' }, ctx(controller.signal)), (event) => {
      if (event.type === 'delta' && ++deltas === 3) controller.abort();
    });
    const partial = final(stopped);
    expect(partial.status).toBe('interrupted');
    expect(partial.stats === null || partial.stats.tokens < 2000).toBe(true);

    // Continue appends to the same message.
    unwrap(
      await h()['chat.update'](
        { id: conversation.id, settings: { ...conversation.settings, sampling: { ...conversation.settings.sampling, maxTokens: 8 } } },
        ctx(),
      ),
    );
    const continued = final(await collect(h()['chat.continue']({ messageId: partial.id }, ctx())));
    expect(continued.id).toBe(partial.id);
    expect(continued.content.startsWith(partial.content)).toBe(true);
    expect(continued.content.length).toBeGreaterThan(partial.content.length);

    // Regenerate: a sibling answer.
    const regenerated = final(await collect(h()['chat.regenerate']({ messageId: partial.id }, ctx())));
    expect(regenerated).toMatchObject({ siblingIndex: 2, siblingCount: 2, parentId: partial.parentId });

    // Edit the second question: a branch; switch back and forth.
    const edited = await collect(h()['chat.send']({ conversationId: conversation.id, content: 'Tell me less', parentId: a1.id }, ctx()));
    expect(edited[0]).toMatchObject({ type: 'user', message: { siblingIndex: 2, siblingCount: 2 } });
    const back: ChatThread = unwrap(await h()['chat.switchBranch']({ messageId: partial.parentId! }, ctx()));
    expect(back.messages.map((message) => message.content).slice(0, 3)).toEqual(['Hello there', a1.content, 'Tell me more']);
    expect(back.messages[3]?.id).toBe(regenerated.id);

    // Restart: everything is where it was, and search finds it by a word in the body.
    const before = unwrap(await h()['chat.get']({ id: conversation.id }, ctx()));
    await core.close();
    core = await start(dataDir);
    expect(unwrap(await h()['chat.get']({ id: conversation.id }, ctx()))).toEqual(before);
    expect(unwrap(await h()['chat.list']({ query: 'less' }, ctx())).conversations.map((item) => item.id)).toEqual([conversation.id]);
  });
});
