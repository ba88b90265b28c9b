import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import type { ChatMessage } from '../common/contract/index.ts';
import { createChatStore } from '../main/services/chat/store.ts';
import { DEFAULT_SETTINGS, openSettings } from '../main/services/settings.ts';
import { createEngine } from '../main/services/inference/engine.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';
import { runCli, type CliRun } from '../test-support/run-cli.ts';

// The real-model cases need `engine.chat`, which the inference side is adding; until it
// is there they are skipped, and they run by themselves once it lands.
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

let dir: string;

const cli = (dataDir: string, ...args: string[]) => runCli(args, { dataDir });

/** One thread (shared 2-core machines) and short answers (the test model never stops by itself). */
async function testSettings(dataDir: string): Promise<void> {
  const db = openDatabase(dataDir);
  try {
    const settings = await openSettings(db, dataDir, () => undefined);
    await settings.update({
      runtime: { ...DEFAULT_SETTINGS.runtime, threads: 1, contextSize: 4096, sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: 16 } },
    });
  } finally {
    db.close();
  }
}

const conversationOf = (run: CliRun): string => /conversation=([0-9a-f]{16})/.exec(run.stderr)?.[1] ?? '';

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-cli-chat-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('soberana chat', () => {
  it('says there is no model, with exit 1, and leaves no empty conversation behind', async () => {
    const dataDir = path.join(dir, 'empty');
    await testSettings(dataDir);
    const run = cli(dataDir, 'chat', 'Hello?');
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain('There is no chat model in the library');
    const db = openDatabase(dataDir);
    try {
      expect(createChatStore(db).list()).toEqual([]);
    } finally {
      db.close();
    }
  });

  it('fails with no_model on a conversation that has no model, saving nothing', async () => {
    const dataDir = path.join(dir, 'no-model');
    await testSettings(dataDir);
    const db = openDatabase(dataDir);
    const id = createChatStore(db).create({
      modelId: null,
      settings: { systemPrompt: '', sampling: { ...DEFAULT_SETTINGS.runtime.sampling, minP: 0.05, seed: null }, contextSize: 'auto' },
    }).id;
    db.close();
    const run = cli(dataDir, 'chat', '--conversation', id, 'Hello?');
    expect(run.status, run.stderr).toBe(1);
    expect(run.stderr).toContain(`conversation=${id}`);
    expect(run.stderr).toContain('No model is loaded');
    const after = openDatabase(dataDir);
    try {
      expect(createChatStore(after).thread(id).messages).toEqual([]);
    } finally {
      after.close();
    }
  });

  it('checks its arguments', () => {
    const dataDir = path.join(dir, 'usage');
    expect(cli(dataDir, 'chat').status).toBe(2);
    expect(cli(dataDir, 'chat', '   ').status).toBe(2);
    expect(cli(dataDir, 'chat', '--model', '', 'Hi').status).toBe(2);
    const unknown = cli(dataDir, 'chat', '--conversation', 'ffffffffffffffff', 'Hi');
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('That conversation does not exist');
    const model = cli(dataDir, 'chat', '--model', 'nothing-like-this', '--json', 'Hi');
    expect(model.status).toBe(1);
    expect(JSON.parse(model.stdout)).toMatchObject({ error: { code: 'not_found' } });
    expect(cli(dataDir, 'chat', '--help').stdout).toContain('Usage: soberana chat');
  });

  it.skipIf(!ENGINE_HAS_CHAT)('streams an answer with the real engine, continues it, and shares conversations with the app', { timeout: 120_000 }, async () => {
    const dataDir = path.join(dir, 'real');
    await testSettings(dataDir);
    const file = path.join(dir, 'cli-chat.gguf');
    await writeGguf(file, { ...presetSpec('tiny', 'Q8_0', 11), contextLength: 4096, quietEnd: true });
    expect(cli(dataDir, 'models', 'import', file, '--mode', 'reference').status).toBe(0);

    const first = cli(dataDir, 'chat', '--system', 'Be brief.', 'Hello there');
    expect(first.status, first.stderr).toBe(0);
    expect(first.stdout.trim().length).toBeGreaterThan(0);
    expect(first.stderr).toMatch(/tokens=\d+ tokens_per_s=[\d.]+ first_token_ms=\d+/);
    const id = conversationOf(first);

    const second = cli(dataDir, 'chat', '--conversation', id, '--json', 'And more');
    expect(second.status, second.stderr).toBe(0);
    const json = JSON.parse(second.stdout) as { conversationId: string; message: ChatMessage };
    expect(json.conversationId).toBe(id);
    expect(json.message).toMatchObject({ role: 'assistant', modelName: 'cli-chat' });

    // What the app sees, and a conversation the app started, continued from the command line.
    const db = openDatabase(dataDir);
    let appConversation: string;
    try {
      const store = createChatStore(db);
      const thread = store.thread(id);
      expect(thread.conversation.settings.systemPrompt).toBe('Be brief.');
      expect(thread.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'user', 'assistant']);
      expect(thread.messages[1]?.content).toBe(first.stdout.replace(/\n$/, ''));
      appConversation = store.create({ modelId: thread.conversation.modelId, settings: thread.conversation.settings, title: 'From the app' }).id;
    } finally {
      db.close();
    }
    const third = cli(dataDir, 'chat', '--conversation', appConversation, 'Hi from the terminal');
    expect(third.status, third.stderr).toBe(0);
    const after = openDatabase(dataDir);
    try {
      expect(
        createChatStore(after)
          .thread(appConversation)
          .messages.map((message) => message.content)[0],
      ).toBe('Hi from the terminal');
    } finally {
      after.close();
    }
  });
});
