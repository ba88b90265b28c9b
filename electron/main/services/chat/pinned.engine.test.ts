import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { markdownDocument, pdfDocument, writeDocuments } from '../../../../e2e/fixtures/documents/index.ts';
import { presetSpec, writeGguf } from '../../../../e2e/fixtures/gguf/writer.ts';
import type { ChatEvent, ChatThread, Conversation } from '../../../common/contract/index.ts';
import type { CallContext } from '../../../common/handlers.ts';
import { AppError, type Result } from '../../../common/result.ts';
import { createCore, type Core } from '../core.ts';
import type { ChatRequest } from '../inference/engine.ts';
import { importModel, libraryDirFor, scanModels } from '../models/index.ts';
import { DEFAULT_SETTINGS } from '../settings.ts';

// Pinned documents end to end: real SQLite, the extraction worker, the inference process and
// a generated chat model with a 4,096-token context. What the model receives is observed by
// passing the engine's chat through a recorder; the answer itself comes from the real model.

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };
const ctx = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

const PAGE_ONE = 'The ledger lists three lanterns issued to the Brindlemoor watch.';
const PAGE_TWO = 'A fourth lantern was issued to the Saltmarsh ferry in the spring.';
// Long enough that no 4,096-token context holds it, whatever the tokenizer.
const BIG_PARAGRAPHS = Array.from(
  { length: 400 },
  (_, i) => `Entry ${i} of the harbour register records cargo ${i * 7} of salted herring and tar, weighed at the quay before noon.`,
);

let dir: string;
let modelFile: string;
let docs: Record<string, string>;
const cores: Core[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-pinned-'));
  modelFile = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(modelFile, { ...presetSpec('tiny', 'Q8_0', 17), contextLength: 4096 });
  docs = await writeDocuments(path.join(dir, 'docs'), {
    'ledger.pdf': await pdfDocument([{ blocks: [{ kind: 'paragraph', text: PAGE_ONE }] }, { blocks: [{ kind: 'paragraph', text: PAGE_TWO }] }]),
    'register.md': markdownDocument({ sections: [{ heading: 'Register', level: 1, paragraphs: BIG_PARAGRAPHS }] }),
  });
}, 60_000);

afterEach(async () => {
  await Promise.all(cores.splice(0).map((core) => core.close()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function setUp() {
  const dataDir = await mkdtemp(path.join(dir, 'data-'));
  const core = await createCore({ dataDir, host: HOST });
  cores.push(core);
  const runtime = DEFAULT_SETTINGS.runtime;
  unwrap(
    await core.handlers['settings.update']({ runtime: { ...runtime, threads: 1, contextSize: 4096, sampling: { ...runtime.sampling, maxTokens: 8 } } }, ctx()),
  );
  await core.runtime.start();
  const [candidate] = (await scanModels(modelFile)).candidates;
  await importModel(core.storage, libraryDirFor(dataDir), candidate!, { mode: 'reference' });
  const collection = await core.knowledge.createCollection('Harbour', null);
  await core.knowledge.addPaths(collection.id, Object.values(docs));
  await core.knowledge.idle();
  const ids = Object.fromEntries(
    unwrap(await core.handlers['knowledge.documents']({ collectionId: collection.id }, ctx())).documents.map((document) => [document.name, document.id]),
  );
  // What the model is asked, passed on to the real engine unchanged.
  const prompts: (string | null)[] = [];
  const chat = core.runtime.chat.bind(core.runtime);
  core.runtime.chat = (request: ChatRequest, ...rest) => {
    prompts.push(request.prompt);
    return chat(request, ...rest);
  };
  const conversation: Conversation = unwrap(await core.handlers['chat.create']({}, ctx()));
  const send = async (content: string) => {
    const events: ChatEvent[] = [];
    for await (const event of core.handlers['chat.send']({ conversationId: conversation.id, content }, ctx())) events.push(event as ChatEvent);
    return events;
  };
  return { core, collection, ids, prompts, conversation, send };
}

const pinnedOf = (events: readonly ChatEvent[]) => events.flatMap((event) => (event.type === 'pinned' ? event.documents : []));
const noticesOf = (events: readonly ChatEvent[]) => events.flatMap((event) => (event.type === 'notice' ? [event] : []));
const doneOf = (events: readonly ChatEvent[]) => {
  const done = events.at(-1);
  if (done?.type !== 'done') throw new Error('no done event');
  return done.message;
};

describe('pinned documents with the real engine', () => {
  it('a pinned document that fits goes to the model whole, in order, with its pages; the answer keeps that', { timeout: 180_000 }, async () => {
    const { core, collection, ids, prompts, conversation, send } = await setUp();
    const ledger = ids['ledger.pdf']!;
    unwrap(
      await core.handlers['chat.update'](
        { id: conversation.id, knowledge: { collectionIds: [collection.id], documentsOnly: true, pinnedDocuments: [{ id: ledger, name: 'ledger.pdf' }] } },
        ctx(),
      ),
    );
    // A counting question: no single passage answers it, the whole document does.
    const events = await send('How many lanterns were issued in all?');
    const [pinned] = pinnedOf(events);
    expect(pinned).toMatchObject({ documentId: ledger, name: 'ledger.pdf', state: 'whole', label: 'D1', pages: 2 });
    expect(pinned!.tokens!).toBeGreaterThan(0);
    expect(pinned!.tokens!).toBeLessThanOrEqual(pinned!.room!);
    expect(noticesOf(events)).toEqual([]);
    const prompt = prompts.at(-1)!;
    expect(prompt).toContain(`<<<DOCUMENT [D1] "ledger.pdf", 2 pages>>>\n<<<PAGE 1>>>\n${PAGE_ONE}\n\n<<<PAGE 2>>>\n${PAGE_TWO}\n<<<END DOCUMENT [D1]>>>`);
    expect(prompt.endsWith('Question: How many lanterns were issued in all?')).toBe(true);
    const answer = doneOf(events);
    expect(answer.stats).not.toBeNull();
    expect(answer.pinned).toEqual([pinned]);
    // Saved with the answer, so the sources panel shows it after a restart too.
    const thread: ChatThread = unwrap(await core.handlers['chat.get']({ id: conversation.id }, ctx()));
    expect(thread.messages.at(-1)!.pinned).toEqual([pinned]);
    expect(thread.conversation.knowledge.pinnedDocuments).toEqual([{ id: ledger, name: 'ledger.pdf' }]);
  });

  it('a pinned document too large for the context falls back to its passages, and says how much fits', { timeout: 180_000 }, async () => {
    const { core, collection, ids, prompts, conversation, send } = await setUp();
    const register = ids['register.md']!;
    unwrap(
      await core.handlers['chat.update'](
        { id: conversation.id, knowledge: { collectionIds: [collection.id], documentsOnly: false, pinnedDocuments: [{ id: register, name: 'register.md' }] } },
        ctx(),
      ),
    );
    const events = await send('What does entry 123 record?');
    const [pinned] = pinnedOf(events);
    expect(pinned).toMatchObject({ documentId: register, state: 'passages', label: null });
    expect(pinned!.tokens!).toBeGreaterThan(pinned!.room!);
    const [notice] = noticesOf(events);
    expect(notice).toMatchObject({ kind: 'pinnedPassages' });
    expect(notice!.detail).toBe(
      `Pinned register.md is ${pinned!.tokens!.toLocaleString('en-US')} tokens; ${pinned!.room!.toLocaleString('en-US')} fit in this model's context — answering from the most relevant passages instead.`,
    );
    const sources = events.find((event) => event.type === 'sources');
    expect(sources?.type === 'sources' && sources.sources.every((passage) => passage.documentId === register)).toBe(true);
    const prompt = prompts.at(-1)!;
    expect(prompt).toContain('Entry 123 of the harbour register');
    expect(prompt).not.toContain('<<<DOCUMENT');
    expect(prompt).not.toContain(BIG_PARAGRAPHS.at(-1));
    expect(doneOf(events).pinned).toEqual([pinned]);
  });

  it('a pinned document of a collection no longer attached is not used, and the user is told', { timeout: 180_000 }, async () => {
    const { core, ids, prompts, conversation, send } = await setUp();
    const other = await core.knowledge.createCollection('Other', null);
    unwrap(
      await core.handlers['chat.update'](
        {
          id: conversation.id,
          knowledge: { collectionIds: [other.id], documentsOnly: false, pinnedDocuments: [{ id: ids['ledger.pdf']!, name: 'ledger.pdf' }] },
        },
        ctx(),
      ),
    );
    const events = await send('How many lanterns?');
    expect(pinnedOf(events)).toMatchObject([{ name: 'ledger.pdf', state: 'unavailable', tokens: null }]);
    expect(noticesOf(events)).toMatchObject([{ kind: 'pinnedUnavailable' }]);
    expect(prompts.at(-1)).toBe('How many lanterns?');
  });
});
