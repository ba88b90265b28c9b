import type { ApiStatus, Passage, RuntimeSettings, SearchResult } from '../../../common/contract/index.ts';
import { AppError } from '../../../common/result.ts';
import type { CompletionOutcome } from '../../../common/runtime/protocol.ts';
import { ensureModel } from '../chat/answer.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { Governance } from '../governance.ts';
import type { RuntimeEngine } from '../inference/engine.ts';
import type { Turns } from '../inference/turns.ts';
import type { SearchRequest } from '../knowledge/retrieval/search.ts';
import type { PiiPolicyResult } from '../pii/index.ts';
import type { Database } from '../storage/sqlite.ts';
import {
  assertCollectionsNotSeparated,
  checkCollections,
  grounded,
  passagesMarking,
  promptText,
  questionOf,
  responseText,
  retrievalBudget,
  samplingFor,
  screenRequest,
  sourceOf,
} from './completion.ts';
import { apiModels, resolveModel } from './models.ts';
import { bytes, NO_FACTS, recordRequest, statusOf, type RequestFacts } from './records.ts';
import type { RefusalLog } from './refusal-log.ts';
import { TokenRefusal, type ApiTokens } from './tokens.ts';
import type { ApiPrincipal, ApiRequestInfo, ApiService } from './types.ts';

// The local API's rules, in one place, whatever HTTP shape a request came in: who may call
// (tokens, scopes, the policy), how much at once (per token), what reaches the model (the
// policy's locks and PII rule, the token's collections), whose turn it is (fair lanes with
// the app's own chats), and what the audit log records of each request.

/** Requests one token may have at once, waiting or running; one more is refused with 429. */
export const MAX_IN_FLIGHT = 4;
/** Texts one embeddings request may carry (OpenAI's own limit). */
export const MAX_EMBED_INPUTS = 2048;
/** Passages one search may return. */
export const MAX_SEARCH_RESULTS = 50;

export interface ApiServiceDeps {
  readonly db: Database;
  readonly tokens: ApiTokens;
  /** The governed engine outside any lane: the service takes its turn itself, in the token's lane. */
  readonly engine: Pick<RuntimeEngine, 'state' | 'hardware' | 'start' | 'load' | 'chat' | 'complete' | 'embed' | 'countTokens'>;
  readonly turns: Turns;
  readonly settings: () => RuntimeSettings;
  readonly governance: Governance;
  readonly gate: Gate;
  readonly emit: Emit;
  /** The prompts' PII rule, as chat applies it. */
  readonly screen: (text: string) => PiiPolicyResult;
  readonly knowledge: {
    retrieve(query: string, collectionIds: readonly string[], budgetTokens: number): Promise<{ passages: Passage[] }>;
    search(request: SearchRequest): Promise<SearchResult>;
  };
  readonly status: () => ApiStatus;
  /** Where refusals are recorded: one by one, and past a flood as a summary (refusal-log.ts). */
  readonly refusals: RefusalLog;
}

export function createApiService(deps: ApiServiceDeps): ApiService {
  const { engine, emit } = deps;
  const inFlight = new Map<string, number>();

  const assertScope = (principal: ApiPrincipal, scope: ApiPrincipal['scopes'][number]) => {
    if (!principal.scopes.includes(scope)) throw new AppError('forbidden', `This API token does not have the "${scope}" scope.`);
  };

  /**
   * Runs one request of a token: refused at once beyond MAX_IN_FLIGHT (and recorded as a
   * refusal), else served, with its audit record written whether it succeeds or fails.
   */
  async function serve<T>(
    principal: ApiPrincipal,
    info: ApiRequestInfo,
    signal: AbortSignal,
    work: (facts: (next: Partial<RequestFacts>) => void) => Promise<T>,
  ): Promise<T> {
    const count = inFlight.get(principal.tokenId) ?? 0;
    if (count >= MAX_IN_FLIGHT) {
      const message = `This API token already has ${MAX_IN_FLIGHT} requests in progress. Wait for one to finish.`;
      deps.refusals.record(info, 429, message, principal.name);
      throw new AppError('too_many_requests', message);
    }
    inFlight.set(principal.tokenId, count + 1);
    let facts: RequestFacts = NO_FACTS;
    try {
      const result = await work((next) => (facts = { ...facts, ...next }));
      // A client that went away mid-reply got part of it: recorded as cancelled (499), with what was written.
      recordRequest(emit, principal, info, signal.aborted ? 499 : 200, facts);
      return result;
    } catch (error) {
      recordRequest(emit, principal, info, statusOf(error), facts);
      throw error;
    } finally {
      const left = (inFlight.get(principal.tokenId) ?? 1) - 1;
      if (left <= 0) inFlight.delete(principal.tokenId);
      else inFlight.set(principal.tokenId, left);
    }
  }

  const threads = async () => {
    if (engine.state().status === 'stopped') await engine.start();
    const wanted = deps.settings().threads;
    return wanted === 'auto' ? (await engine.hardware()).cpuCores : wanted;
  };

  const policy = () => deps.governance.policy;
  const markingScheme = () => deps.governance.policy.markings;

  return {
    status: () => deps.status(),

    authenticate(bearer, scope, request) {
      try {
        // Fail closed: a request the audit log could not record is not served, nor any while the policy forbids the API.
        deps.gate.check('api.serve');
        return deps.tokens.verify(bearer, scope);
      } catch (error) {
        if (error instanceof AppError) deps.refusals.record(request, statusOf(error), error.message, error instanceof TokenRefusal ? error.tokenName : null);
        throw error;
      }
    },

    refused(request, status, reason, token) {
      deps.refusals.record(request, status, reason, token ?? null);
    },

    served(principal, request, status, responseBytes) {
      recordRequest(emit, principal, request, status, { ...NO_FACTS, responseBytes: Math.max(0, Math.trunc(responseBytes)) });
    },

    models(principal) {
      assertScope(principal, 'models:read');
      return apiModels(deps.db, deps.governance).map((model) => model.api);
    },

    async complete(principal, request, info, onDelta, signal) {
      assertScope(principal, 'chat');
      return serve(principal, info, signal, async (facts) => {
        const collections = checkCollections(principal, request.collections);
        facts({ collections });
        const sampling = samplingFor(request.sampling, deps.settings());
        if ((request.messages === null) === (request.prompt === null)) throw new AppError('bad_request', 'Send either messages or a prompt.');
        // Screened first: a request the policy refuses goes no further, whatever model it names.
        const screened = screenRequest(deps.screen, request);
        const model = resolveModel(apiModels(deps.db, deps.governance), request.model, 'chat');
        facts({ modelSha256: model.record.sha256 });
        let passages: Passage[] = [];
        if (collections.length > 0) {
          // A request is its own conversation: its collections may not mix compartments the policy keeps apart.
          assertCollectionsNotSeparated(deps.db, markingScheme(), collections);
          const question = questionOf(screened);
          if (question !== '')
            passages = (await deps.knowledge.retrieve(question, collections, retrievalBudget(engine.state().model?.contextSize ?? null))).passages;
          facts({ marking: passagesMarking(markingScheme(), passages) });
        }
        const input = grounded(screened, passages);
        facts({ prompt: promptText(input) });
        const params = {
          messages: input.messages,
          prompt: input.prompt,
          sampling,
          stop: [...request.stop],
          format: request.format,
          tools: [...request.tools],
          toolChoice: request.toolChoice,
        };
        // The token's own lane: the app's chats and other tokens take turns with it. Inside the
        // turn the engine is used directly (a laned call here would wait for this very turn).
        const outcome: CompletionOutcome = await deps.turns.run(
          `api:${principal.tokenId}`,
          async () => {
            await ensureModel({ db: deps.db, engine, settings: deps.settings, policy }, model.record.id, 'auto', signal);
            if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
            return engine.complete(params, (delta) => (delta.text === '' ? undefined : onDelta(delta.text)), signal);
          },
          signal,
        );
        const response = responseText(outcome);
        facts({ response, responseBytes: bytes(response), promptTokens: outcome.stats.promptTokens, completionTokens: outcome.stats.tokens });
        return { ...outcome, model: model.api.id, sources: passages.map(sourceOf) };
      });
    },

    async embed(principal, request, info, signal) {
      assertScope(principal, 'embeddings');
      return serve(principal, info, signal, async (facts) => {
        const model = resolveModel(apiModels(deps.db, deps.governance), request.model, 'embedding');
        facts({ modelSha256: model.record.sha256 });
        if (request.input.length === 0) throw new AppError('bad_request', 'There is nothing to embed: send at least one text.');
        if (request.input.length > MAX_EMBED_INPUTS) throw new AppError('bad_request', `Send at most ${MAX_EMBED_INPUTS} texts per request.`);
        const texts = request.input.map((text) => screenRequest(deps.screen, { messages: null, prompt: text }).prompt ?? '');
        facts({ prompt: texts.join('\n\n') });
        const file = model.record.files[0];
        if (file === undefined) throw new AppError('not_found', `The files of ${model.api.id} are missing.`);
        const count = await threads();
        if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
        const counts = await engine.countTokens(file, texts, count);
        const result = await engine.embed(file, texts, count);
        if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
        const promptTokens = counts.reduce((sum, n) => sum + n, 0);
        facts({ promptTokens, responseBytes: result.vectors.length * result.dimensions * 4 });
        return { model: model.api.id, vectors: result.vectors, promptTokens };
      });
    },

    async search(principal, request, info, signal) {
      assertScope(principal, 'knowledge');
      return serve(principal, info, signal, async (facts) => {
        const collections = checkCollections(principal, [request.collection]);
        facts({ collections });
        if (!Number.isInteger(request.k) || request.k < 1 || request.k > MAX_SEARCH_RESULTS)
          throw new AppError('bad_request', `k must be a whole number from 1 to ${MAX_SEARCH_RESULTS}.`);
        const query = screenRequest(deps.screen, { messages: null, prompt: request.query }).prompt ?? '';
        if (query.trim() === '') throw new AppError('bad_request', 'The query is empty.');
        facts({ prompt: query });
        const found = await deps.knowledge.search({ query, collectionIds: collections, limit: request.k });
        if (signal.aborted) throw new AppError('cancelled', 'Cancelled.');
        const served = found.passages.slice(0, request.k);
        facts({ marking: passagesMarking(markingScheme(), served) });
        const sources = served.map(sourceOf);
        facts({ responseBytes: sources.reduce((sum, source) => sum + bytes(source.text), 0) });
        return sources;
      });
    },
  };
}
