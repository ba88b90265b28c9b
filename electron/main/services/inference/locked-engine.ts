import { AppError } from '../../../common/result.ts';
import { applyPiiPolicy, describeFindings } from '../pii/index.ts';
import type { EffectivePolicy, PiiMode } from '../policy/schema.ts';
import type { CompletionParams } from '../../../common/runtime/protocol.ts';
import type { ChatRequest, RuntimeEngine } from './engine.ts';
import { clampFitTarget, clampLoadOptions, clampSampling, runtimeLocks } from './locks.ts';

// The engine as every caller gets it: the app's handlers, chat, the CLI and a later local
// API all load and generate through this one object, so the policy's locked settings and
// its PII rule for prompts hold whichever path the values came by.

export type PolicySource = EffectivePolicy | (() => EffectivePolicy);

/** What the wrapper needs; stand-ins in tests may have only these. */
type LockableEngine = Pick<RuntimeEngine, 'state' | 'hardware' | 'load'> &
  Partial<Pick<RuntimeEngine, 'chat' | 'generate' | 'complete' | 'fit' | 'embed' | 'embeddingInfo' | 'countTokens' | 'rank'>>;

/**
 * A chat request as the model may see it under the prompts' PII mode. `redact` (and `block`,
 * which is stricter) replaces personal data in everything sent: the system prompt, every
 * turn of the history and the prompt with its retrieved passages. The new message of the
 * user was already refused at send under `block`; what is left, older turns written before
 * the policy and passages ingested under `warn`, is redacted rather than refused, so an
 * existing conversation stays usable. Placeholders are not personal data, so redacting twice
 * changes nothing, and the same history is redacted the same way each turn (the inference
 * process's KV cache still matches).
 */
export function redactChatRequest(request: ChatRequest, mode: PiiMode): ChatRequest {
  if (mode !== 'redact' && mode !== 'block') return request;
  const redact = (text: string) => applyPiiPolicy(text, 'redact').text;
  return {
    ...request,
    systemPrompt: redact(request.systemPrompt),
    history: request.history.map((turn) => ({ role: turn.role, content: redact(turn.content) })),
    prompt: request.prompt === null ? null : redact(request.prompt),
  };
}

/** A raw generation's prompt is the caller's own text: `block` refuses it as chat.send does, `redact` replaces. */
export function screenGeneratePrompt(prompt: string, mode: PiiMode): string {
  if (mode !== 'redact' && mode !== 'block') return prompt;
  const result = applyPiiPolicy(prompt, mode);
  if (result.blocked) {
    throw new AppError(
      'forbidden',
      `Blocked: the text contains personal data (${describeFindings(result.findings)}). This machine's policy does not allow sending personal data to the model. Remove it and try again.`,
    );
  }
  return result.text;
}

/**
 * A stateless completion (the local API) as the model may see it: every message and the raw
 * prompt are the client's own text, so `block` refuses any that holds personal data (as a
 * raw generation's prompt) and `redact` replaces it. Tool call arguments are left alone:
 * they are JSON the client parses back.
 */
export function screenCompletion(params: CompletionParams, mode: PiiMode): CompletionParams {
  if (mode !== 'redact' && mode !== 'block') return params;
  return {
    ...params,
    messages: params.messages === null ? null : params.messages.map((message) => ({ ...message, content: screenGeneratePrompt(message.content, mode) })),
    prompt: params.prompt === null ? null : screenGeneratePrompt(params.prompt, mode),
  };
}

/**
 * `engine` with the policy in force applied to every load, generation, chat and fit
 * estimate, and a locked thread count to the embedding, token-counting and ranking models
 * too (a thread lock limits the machine's CPU, whichever model uses it). Everything else
 * passes through. Engines are plain objects of functions
 * (createEngine's is), so the wrapper is a copy with some of them replaced.
 */
export function lockedEngine<E extends LockableEngine>(engine: E, policy: PolicySource): E {
  const current = typeof policy === 'function' ? policy : () => policy;
  const autoThreads = async () => (engine.state().hardware ?? (await engine.hardware())).cpuCores;
  const wrapped: LockableEngine = {
    ...engine,
    async load(filePath, options, onProgress, signal, displayName) {
      const locks = runtimeLocks(current());
      const threads = locks.threads === 'auto' ? await autoThreads() : options.threads;
      return engine.load(filePath, clampLoadOptions(options, locks, threads), onProgress, signal, displayName);
    },
  };
  const { chat, generate, fit } = engine;
  if (chat !== undefined) {
    wrapped.chat = (request, onDelta, signal) => {
      const now = current();
      const screened = redactChatRequest(request, now.pii.prompts);
      return chat({ ...screened, sampling: clampSampling(request.sampling, runtimeLocks(now)) }, onDelta, signal);
    };
  }
  if (generate !== undefined) {
    wrapped.generate = async (params, onDelta, signal) => {
      const now = current();
      const prompt = screenGeneratePrompt(params.prompt, now.pii.prompts);
      return generate({ ...clampSampling(params, runtimeLocks(now)), prompt }, onDelta, signal);
    };
  }
  const { complete } = engine;
  if (complete !== undefined) {
    wrapped.complete = async (params, onDelta, signal) => {
      const now = current();
      const screened = screenCompletion(params, now.pii.prompts);
      return complete({ ...screened, sampling: clampSampling(params.sampling, runtimeLocks(now)) }, onDelta, signal);
    };
  }
  if (fit !== undefined) wrapped.fit = (filePath, target = {}) => fit(filePath, clampFitTarget(target, runtimeLocks(current())));
  const lockedThreads = async (threads: number) => {
    const lock = runtimeLocks(current()).threads;
    return lock === undefined ? threads : lock === 'auto' ? await autoThreads() : lock;
  };
  const { embed, embeddingInfo, countTokens, rank } = engine;
  if (embed !== undefined) wrapped.embed = async (filePath, texts, threads) => embed(filePath, texts, await lockedThreads(threads));
  if (embeddingInfo !== undefined) wrapped.embeddingInfo = async (filePath, threads) => embeddingInfo(filePath, await lockedThreads(threads));
  if (countTokens !== undefined) wrapped.countTokens = async (filePath, texts, threads) => countTokens(filePath, texts, await lockedThreads(threads));
  if (rank !== undefined) wrapped.rank = async (filePath, query, documents, threads) => rank(filePath, query, documents, await lockedThreads(threads));
  return wrapped as E;
}
