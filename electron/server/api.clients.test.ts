import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Ollama, type Message } from 'ollama';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gv } from '../../e2e/fixtures/gguf/encode.ts';
import { presetSpec, writeGguf } from '../../e2e/fixtures/gguf/writer.ts';
import { installEgressGuard } from '../guard/egress.ts';
import { startApiServer, testContext, unwrap, type ApiTestServer } from '../test-support/api-server.ts';
import { createHttpApi } from './http-api.ts';

// The acceptance test of the local API: the official `openai` and `ollama` npm clients,
// unmodified (only their base URL and key are set), against the real server over a real
// core, the real inference process and node-llama-cpp, on models this test writes. The egress
// guard is installed as in main: the clients reach 127.0.0.1 under it.

installEgressGuard({ process: 'main' });

let dir: string;
let server: ApiTestServer;
let chatModel: string;
let embedModel: string;
let openai: OpenAI;
let ollama: Ollama;

const WEATHER = {
  type: 'object',
  properties: { city: { type: 'string', enum: ['Madrid', 'Lima', 'Quito'] }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
} as const;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-clients-'));
  const chat = path.join(dir, 'tiny-chat.gguf');
  await writeGguf(chat, { ...presetSpec('tiny', 'Q8_0', 11), name: 'tiny chat', contextLength: 4096, quietEnd: true });
  const embedder = path.join(dir, 'tiny-embedder.gguf');
  await writeGguf(embedder, {
    ...presetSpec('tiny', 'Q8_0', 12),
    name: 'tiny embedder',
    contextLength: 256,
    extraMetadata: [['llama.pooling_type', gv.u32(1)]],
  });
  // The tiny model never ends a reply by itself: 12 tokens unless a request asks for more.
  server = await startApiServer({ modelFiles: [chat, embedder], maxTokens: 12 });
  const token = server.token(['chat', 'embeddings', 'models:read'], { name: 'clients' }).token;
  openai = new OpenAI({ apiKey: token, baseURL: `${server.base}/v1`, maxRetries: 0, timeout: 120_000 });
  ollama = new Ollama({ host: server.base, headers: { Authorization: `Bearer ${token}` } });
  const ids = (await openai.models.list()).data.map((model) => model.id);
  chatModel = ids.find((id) => id.includes('chat'))!;
  embedModel = ids.find((id) => id.includes('embedder'))!;
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('the openai client', { timeout: 120_000 }, () => {
  it('lists the chat and embedding models', async () => {
    const list = await openai.models.list();
    expect(list.data.map((model) => model.id).sort()).toEqual([chatModel, embedModel].sort());
    expect(list.data[0]).toMatchObject({ object: 'model', owned_by: 'soberana' });
    expect((await openai.models.retrieve(chatModel)).id).toBe(chatModel);
  });

  it('answers a chat, and the same chat streamed gives the same text, with usage last', async () => {
    const messages = [
      { role: 'system' as const, content: 'You are terse.' },
      { role: 'user' as const, content: 'Say something about the sea.' },
    ];
    const whole = await openai.chat.completions.create({ model: chatModel, messages, temperature: 0, max_tokens: 10 });
    const text = whole.choices[0]!.message.content ?? '';
    expect(text.length).toBeGreaterThan(0);
    expect(whole.choices[0]!.finish_reason).toBe('length');
    expect(whole.usage?.completion_tokens).toBeGreaterThan(0);
    expect(whole.usage?.prompt_tokens).toBeGreaterThan(0);
    expect(whole.model).toBe(chatModel);

    const stream = await openai.chat.completions.create({
      model: chatModel,
      messages,
      temperature: 0,
      max_tokens: 10,
      stream: true,
      stream_options: { include_usage: true },
    });
    let streamed = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks += 1;
      streamed += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) usage = chunk.usage;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(streamed).toBe(text);
    expect(finish).toBe('length');
    expect(usage?.completion_tokens).toBe(whole.usage?.completion_tokens);
  });

  it('answers with JSON that follows the response_format schema', async () => {
    const reply = await openai.chat.completions.create({
      model: chatModel,
      messages: [{ role: 'user', content: 'Which city and unit?' }],
      max_tokens: 80,
      response_format: { type: 'json_schema', json_schema: { name: 'weather', schema: WEATHER, strict: true } },
    });
    const parsed = JSON.parse(reply.choices[0]!.message.content!) as { city: string; unit: string };
    expect(WEATHER.properties.city.enum).toContain(parsed.city);
    expect(WEATHER.properties.unit.enum).toContain(parsed.unit);
  });

  it('returns a tool call whose arguments fit the tool’s schema', async () => {
    const reply = await openai.chat.completions.create({
      model: chatModel,
      messages: [{ role: 'user', content: 'What is the weather in Lima?' }],
      max_tokens: 80,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'The weather in a city', parameters: WEATHER } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
    });
    const choice = reply.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') return;
    expect(call.function.name).toBe('get_weather');
    expect(call.id.length).toBeGreaterThan(0);
    const args = JSON.parse(call.function.arguments) as { city: string; unit: string };
    expect(WEATHER.properties.city.enum).toContain(args.city);

    // The conversation goes on with the tool's result.
    const next = await openai.chat.completions.create({
      model: chatModel,
      max_tokens: 6,
      messages: [
        { role: 'user', content: 'What is the weather in Lima?' },
        { role: 'assistant', content: null, tool_calls: [call] },
        { role: 'tool', tool_call_id: call.id, content: '{"temperature": 19}' },
      ],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER } }],
      tool_choice: 'none',
    });
    expect(typeof next.choices[0]!.message.content).toBe('string');
  });

  it('streams a forced tool call as a tool_calls delta with the finish reason after it', async () => {
    const calls: OpenAI.Chat.Completions.ChatCompletionChunk.Choice.Delta.ToolCall[] = [];
    let finish: string | null = null;
    const stream = await openai.chat.completions.create({
      model: chatModel,
      messages: [{ role: 'user', content: 'Weather in Quito?' }],
      max_tokens: 80,
      stream: true,
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: WEATHER } }],
      tool_choice: 'required',
    });
    for await (const chunk of stream) {
      calls.push(...(chunk.choices[0]?.delta.tool_calls ?? []));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe('tool_calls');
    expect(calls[0]).toMatchObject({ index: 0, type: 'function', function: { name: 'get_weather' } });
    expect(WEATHER.properties.unit.enum).toContain((JSON.parse(calls[0]!.function!.arguments!) as { unit: string }).unit);
  });

  it('ends a reply that runs past the server’s time limit with 504, whole or streamed', async () => {
    const hasty = createHttpApi(server.service, { generationTimeoutMs: 300 });
    const [address] = await hasty.start(0, { allowedOrigins: [] });
    try {
      const client = new OpenAI({ apiKey: server.token(['chat'], { name: 'hasty' }).token, baseURL: `${address}/v1`, maxRetries: 0, timeout: 120_000 });
      const long = { model: chatModel, messages: [{ role: 'user' as const, content: 'Talk for a long time.' }], max_tokens: 3000 };
      const whole = await client.chat.completions.create(long).catch((error: unknown) => error);
      expect(whole).toBeInstanceOf(OpenAI.APIError);
      expect((whole as InstanceType<typeof OpenAI.APIError>).status).toBe(504);
      // Streamed: the head went out with the first delta, so the error arrives inside the stream.
      const streamed = await (async () => {
        for await (const chunk of await client.chat.completions.create({ ...long, stream: true })) void chunk;
      })().catch((error: unknown) => error);
      expect(streamed).toBeInstanceOf(OpenAI.APIError);
      expect(String((streamed as Error).message)).toMatch(/limit/);
    } finally {
      await hasty.stop();
    }
  });

  it('continues a raw prompt (/v1/completions), streamed and not', async () => {
    const whole = await openai.completions.create({ model: chatModel, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
    expect(whole.object).toBe('text_completion');
    expect(whole.choices[0]!.text.length).toBeGreaterThan(0);
    let streamed = '';
    for await (const chunk of await openai.completions.create({ model: chatModel, prompt: 'Once upon a time', max_tokens: 5, temperature: 0, stream: true })) {
      streamed += chunk.choices[0]?.text ?? '';
    }
    expect(streamed).toBe(whole.choices[0]!.text);
  });

  it('embeds texts, as base64 (the SDK’s default) and as floats alike', async () => {
    const base64 = await openai.embeddings.create({ model: embedModel, input: ['the water', 'the model'] });
    expect(base64.data).toHaveLength(2);
    expect(base64.data[0]!.embedding).toHaveLength(64);
    const floats = await openai.embeddings.create({ model: embedModel, input: 'the water', encoding_format: 'float' });
    const a = base64.data[0]!.embedding;
    const b = floats.data[0]!.embedding;
    expect(b).toHaveLength(64);
    for (let i = 0; i < 64; i += 1) expect(a[i]).toBeCloseTo(b[i]!, 5);
    expect(base64.usage.prompt_tokens).toBeGreaterThan(0);
  });

  it('raises the SDK’s own error classes with the right statuses', async () => {
    const user = [{ role: 'user' as const, content: 'hi' }];
    await expect(openai.chat.completions.create({ model: 'no-such-model', messages: user })).rejects.toBeInstanceOf(OpenAI.NotFoundError);
    const bad = await openai.chat.completions.create({ model: chatModel, messages: user, temperature: 7 }).catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('temperature');
    await expect(openai.chat.completions.create({ model: chatModel, messages: user, n: 2 })).rejects.toBeInstanceOf(OpenAI.BadRequestError);
    const stranger = new OpenAI({ apiKey: 'sob_not-a-token', baseURL: `${server.base}/v1`, maxRetries: 0 });
    await expect(stranger.models.list()).rejects.toBeInstanceOf(OpenAI.AuthenticationError);
    const chatOnly = new OpenAI({ apiKey: server.token(['chat'], { name: 'chat only' }).token, baseURL: `${server.base}/v1`, maxRetries: 0 });
    await expect(chatOnly.embeddings.create({ model: embedModel, input: 'x' })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(chatOnly.chat.completions.create({ model: embedModel, messages: user })).rejects.toBeInstanceOf(OpenAI.APIError);
  });

  it('refuses a fifth request in flight for one token with 429, and serves the four', async () => {
    const busy = new OpenAI({ apiKey: server.token(['chat'], { name: 'busy' }).token, baseURL: `${server.base}/v1`, maxRetries: 0, timeout: 120_000 });
    const ask = () => busy.chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: 'Go on.' }], max_tokens: 120 });
    const outcomes = await Promise.allSettled(Array.from({ length: 6 }, ask));
    const refused = outcomes.filter((outcome) => outcome.status === 'rejected');
    expect(refused.length).toBeGreaterThanOrEqual(1);
    for (const outcome of refused) expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(OpenAI.RateLimitError);
    expect(outcomes.filter((outcome) => outcome.status === 'fulfilled').length).toBeGreaterThanOrEqual(4);
  });

  it('stops generating when the client goes away', async () => {
    // Without the abort this reply would run to its 2,000-token limit.
    const leaver = new OpenAI({ apiKey: server.token(['chat'], { name: 'leaver' }).token, baseURL: `${server.base}/v1`, maxRetries: 0, timeout: 120_000 });
    const controller = new AbortController();
    const stream = await leaver.chat.completions.create(
      { model: chatModel, messages: [{ role: 'user', content: 'Talk for a long time.' }], max_tokens: 2000, stream: true },
      { signal: controller.signal },
    );
    let seen = 0;
    try {
      for await (const chunk of stream) {
        if ((chunk.choices[0]?.delta.content ?? '').length > 0) seen += 1;
        if (seen === 3) controller.abort();
      }
    } catch {
      // The SDK may end the iteration quietly or throw on abort; either way the client left.
    }
    expect(seen).toBe(3);
    const next = await openai.chat.completions.create({ model: chatModel, messages: [{ role: 'user', content: 'hi' }], max_tokens: 3 });
    expect(next.choices[0]!.message.content).toEqual(expect.any(String));
    // The service's audit record of the abandoned request: it ended early, far short of 2,000 tokens.
    let record: { completionTokens: number; status: number } | undefined;
    for (let attempt = 0; attempt < 50 && record === undefined; attempt += 1) {
      const page = unwrap(await server.core.handlers['audit.list']({ type: 'api.request', limit: 500 }, testContext()));
      record = page.records.map((entry) => entry.data as { token: string; completionTokens: number; status: number }).find((data) => data.token === 'leaver');
      if (record === undefined) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(record).toBeDefined();
    expect(record!.completionTokens).toBeLessThan(2000);
  });
});

describe('knowledge over the API', { timeout: 180_000 }, () => {
  let collectionId: string;
  let knowing: OpenAI;

  beforeAll(async () => {
    const made = unwrap(await server.core.handlers['knowledge.createCollection']({ name: 'Leave', embeddingModelId: null }, testContext()));
    collectionId = made.id;
    const note = path.join(dir, 'leave.md');
    await writeFile(note, '# Annual leave\n\nStaff have 27 days of annual leave each year, plus public holidays.\n');
    await server.core.knowledge.addPaths(collectionId, [note]);
    await server.core.knowledge.idle();
    const token = server.token(['chat', 'knowledge'], { name: 'leave bot', collections: [collectionId] }).token;
    knowing = new OpenAI({ apiKey: token, baseURL: `${server.base}/v1`, maxRetries: 0, timeout: 120_000 });
  }, 180_000);

  interface Source {
    document_name: string;
    collection_id: string;
    page: number | null;
    score: number;
    text: string;
  }

  it('searches a collection (POST /v1/knowledge/search, through the SDK’s own post)', async () => {
    const found = await knowing.post<{ object: string; data: Source[] }>('/knowledge/search', {
      body: { collection: collectionId, query: 'annual leave', k: 3 },
    });
    expect(found.object).toBe('list');
    expect(found.data[0]).toMatchObject({
      document_name: 'leave.md',
      collection_id: collectionId,
      page: null,
      score: expect.any(Number),
      text: expect.stringContaining('27 days'),
    });
  });

  it('answers a chat from collections and returns its sources, whole and streamed', async () => {
    const body = {
      model: chatModel,
      messages: [{ role: 'user' as const, content: 'How many days of annual leave?' }],
      max_tokens: 6,
      collections: [collectionId],
    };
    const whole = (await knowing.chat.completions.create(body)) as OpenAI.ChatCompletion & { sources?: Source[] };
    expect(whole.sources?.[0]).toMatchObject({ document_name: 'leave.md', text: expect.stringContaining('27 days') });
    let sources: Source[] | undefined;
    for await (const chunk of await knowing.chat.completions.create({ ...body, stream: true })) {
      const extra = chunk as typeof chunk & { sources?: Source[] };
      if (extra.sources !== undefined) sources = extra.sources;
    }
    expect(sources?.[0]?.document_name).toBe('leave.md');
  });

  it('refuses collections to a token without the knowledge scope', async () => {
    const request = { model: chatModel, messages: [{ role: 'user' as const, content: 'Leave?' }], max_tokens: 4, collections: [collectionId] };
    await expect(openai.chat.completions.create(request)).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
    await expect(openai.post('/knowledge/search', { body: { collection: collectionId, query: 'leave' } })).rejects.toBeInstanceOf(OpenAI.PermissionDeniedError);
  });
});

describe('the ollama client', { timeout: 120_000 }, () => {
  it('lists models (/api/tags)', async () => {
    const { models } = await ollama.list();
    expect(models.map((model) => model.name).sort()).toEqual([chatModel, embedModel].sort());
    expect(models[0]!.details.format).toBe('gguf');
    expect(models[0]!.digest).toMatch(/^[0-9a-f]{64}$/);
  });

  it('chats, whole and streamed (NDJSON), with the same text', async () => {
    const messages: Message[] = [{ role: 'user', content: 'Tell me about rivers.' }];
    const whole = await ollama.chat({ model: chatModel, messages, options: { temperature: 0, num_predict: 8 } });
    expect(whole.done).toBe(true);
    expect(whole.message.role).toBe('assistant');
    expect(whole.message.content.length).toBeGreaterThan(0);
    expect(whole.eval_count).toBeGreaterThan(0);
    expect(whole.done_reason).toBe('length');

    let streamed = '';
    let parts = 0;
    let last: { done: boolean; eval_count: number } | null = null;
    for await (const part of await ollama.chat({ model: `${chatModel}:latest`, messages, stream: true, options: { temperature: 0, num_predict: 8 } })) {
      parts += 1;
      streamed += part.message.content;
      last = part;
    }
    expect(parts).toBeGreaterThan(2);
    expect(streamed).toBe(whole.message.content);
    expect(last?.done).toBe(true);
    expect(last?.eval_count).toBe(whole.eval_count);
  });

  it('generates, and follows a JSON schema given as format', async () => {
    const generated = await ollama.generate({ model: chatModel, prompt: 'Hello', options: { num_predict: 5, temperature: 0 } });
    expect(generated.done).toBe(true);
    expect(generated.response).toEqual(expect.stringMatching(/./));
    const structured = await ollama.chat({
      model: chatModel,
      messages: [{ role: 'user', content: 'Weather?' }],
      format: WEATHER,
      options: { num_predict: 80 },
    });
    const parsed = JSON.parse(structured.message.content) as { city: string };
    expect(WEATHER.properties.city.enum).toContain(parsed.city);
  });

  it('embeds (/api/embed)', async () => {
    const result = await ollama.embed({ model: embedModel, input: ['the water', 'the model'] });
    expect(result.embeddings).toHaveLength(2);
    expect(result.embeddings[0]).toHaveLength(64);
  });

  it('throws ResponseError with the status for a bad token and an unknown model', async () => {
    const stranger = new Ollama({ host: server.base, headers: { Authorization: 'Bearer sob_nope' } });
    await expect(stranger.list()).rejects.toMatchObject({ name: 'ResponseError', status_code: 401 });
    await expect(ollama.chat({ model: 'missing', messages: [{ role: 'user', content: 'hi' }] })).rejects.toMatchObject({
      name: 'ResponseError',
      status_code: 404,
    });
    await expect(ollama.chat({ model: chatModel, messages: [{ role: 'user', content: 'hi', images: ['aGk='] }] })).rejects.toMatchObject({ status_code: 400 });
  });
});
