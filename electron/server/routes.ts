import type { ApiScope } from '../common/contract/index.ts';
import { AppError } from '../common/result.ts';
import type { ApiCompletionRequest, ApiCompletionResult, ApiPrincipal, ApiRequestInfo, ApiService } from '../main/services/api/types.ts';
import { product } from '../main/services/product.ts';
import { RequestError } from './errors.ts';
import * as ollama from './ollama.ts';
import { parseChatRequest, parseCompletionRequest, parseEmbedRequest, parseSearchRequest } from './openai-requests.ts';
import * as openai from './openai-responses.ts';
import type { Reply, StreamKind } from './reply.ts';

// The routes: each is a method, a path, the scope its token needs, and a function from the
// parsed body to the service call and the response in its API's shape.

export interface RouteContext {
  readonly service: ApiService;
  readonly principal: ApiPrincipal;
  readonly info: ApiRequestInfo;
  /** The parsed JSON body ({} for GET). */
  readonly body: unknown;
  /** The path's parameter, for `/v1/models/{id}`. */
  readonly param: string | null;
  readonly reply: Reply;
  /** Aborts when the client leaves or the request's time is up. */
  readonly signal: AbortSignal;
}

export interface Route {
  readonly method: 'GET' | 'POST';
  /** An exact path, or a prefix ending in `/` whose rest is the parameter. */
  readonly path: string;
  readonly scope: ApiScope;
  handle(context: RouteContext): Promise<void>;
}

/** How one API writes a completion: the events while it streams, and the whole reply otherwise. */
interface CompletionShape {
  readonly kind: StreamKind;
  opening(): unknown[];
  delta(text: string): unknown;
  closing(result: ApiCompletionResult): unknown[];
  whole(result: ApiCompletionResult): unknown;
}

async function runCompletion(context: RouteContext, request: ApiCompletionRequest, stream: boolean, shape: CompletionShape): Promise<void> {
  const { reply } = context;
  const openStream = (): void => {
    if (!reply.streaming) for (const event of shape.opening()) reply.event(shape.kind, event);
  };
  const onDelta = (text: string): void => {
    if (!stream || text.length === 0 || context.signal.aborted) return;
    openStream();
    reply.event(shape.kind, shape.delta(text));
  };
  const result = await context.service.complete(context.principal, request, context.info, onDelta, context.signal);
  // The engine ends an aborted reply early rather than failing it; the server answers for why (gone, or out of time).
  if (context.signal.aborted) throw new AppError('cancelled', 'The request was stopped before its reply was complete.');
  if (!stream) {
    reply.json(200, shape.whole(result));
    return;
  }
  openStream();
  for (const event of shape.closing(result)) reply.event(shape.kind, event);
  if (shape.kind === 'sse') reply.done();
  reply.end();
}

function chatShape(model: string, includeUsage: boolean, withSources: boolean): CompletionShape {
  const id = openai.responseId('chatcmpl');
  const created = openai.unixSeconds();
  return {
    kind: 'sse',
    opening: () => [openai.chatChunk(id, created, model, [openai.deltaChoice({ role: 'assistant', content: '' })])],
    delta: (text) => openai.chatChunk(id, created, model, [openai.deltaChoice({ content: text })]),
    closing: (result) => openai.chatClosingChunks(id, created, result, includeUsage, withSources),
    whole: (result) => openai.chatCompletionBody(id, created, result, withSources),
  };
}

function textShape(model: string, includeUsage: boolean): CompletionShape {
  const id = openai.responseId('cmpl');
  const created = openai.unixSeconds();
  return {
    kind: 'sse',
    opening: () => [],
    delta: (text) => openai.textChunk(id, created, model, text, null),
    closing: (result) => [
      openai.textChunk(id, created, result.model, '', openai.finishReason(result)),
      ...(includeUsage ? [{ id, object: 'text_completion', created, model: result.model, choices: [], usage: openai.usage(result) }] : []),
    ],
    whole: (result) => openai.textCompletionBody(id, created, result),
  };
}

function ollamaShape(model: string, which: 'chat' | 'generate'): CompletionShape {
  return {
    kind: 'ndjson',
    opening: () => [],
    delta: (text) => (which === 'chat' ? ollama.chatDelta(model, text) : ollama.generateDelta(model, text)),
    closing: (result) => [which === 'chat' ? ollama.chatDone(result, '') : ollama.generateDone(result, '')],
    whole: (result) => (which === 'chat' ? ollama.chatDone(result, result.text) : ollama.generateDone(result, result.text)),
  };
}

/** A request answered without the model: the JSON reply, and its record through the service. */
function answered(context: RouteContext, body: unknown): void {
  context.reply.json(200, body);
  context.service.served(context.principal, context.info, 200, Buffer.byteLength(JSON.stringify(body), 'utf8'));
}

function findModel(context: RouteContext, id: string): void {
  if (!context.service.models(context.principal).some((model) => model.id === id)) {
    throw new AppError('no_model', `There is no model '${id}'. GET /v1/models lists the models this token may use.`);
  }
}

export const ROUTES: readonly Route[] = [
  {
    method: 'GET',
    path: '/v1/models',
    scope: 'models:read',
    handle: async (context) => answered(context, openai.modelsBody(context.service.models(context.principal))),
  },
  {
    method: 'GET',
    path: '/v1/models/',
    scope: 'models:read',
    handle: async (context) => {
      const model = context.service.models(context.principal).find((candidate) => candidate.id === context.param);
      if (model === undefined) throw new AppError('not_found', `There is no model '${context.param ?? ''}'.`);
      answered(context, openai.modelBody(model));
    },
  },
  {
    method: 'POST',
    path: '/v1/chat/completions',
    scope: 'chat',
    handle: async (context) => {
      const { request, stream, includeUsage } = parseChatRequest(context.body);
      await runCompletion(context, request, stream, chatShape(request.model, includeUsage, request.collections.length > 0));
    },
  },
  {
    method: 'POST',
    path: '/v1/completions',
    scope: 'chat',
    handle: async (context) => {
      const { request, stream, includeUsage } = parseCompletionRequest(context.body);
      await runCompletion(context, request, stream, textShape(request.model, includeUsage));
    },
  },
  {
    method: 'POST',
    path: '/v1/embeddings',
    scope: 'embeddings',
    handle: async (context) => {
      const { model, input, encoding } = parseEmbedRequest(context.body);
      const result = await context.service.embed(context.principal, { model, input }, context.info, context.signal);
      context.reply.json(200, openai.embeddingsBody(result, encoding));
    },
  },
  {
    method: 'POST',
    path: '/v1/knowledge/search',
    scope: 'knowledge',
    handle: async (context) => {
      const sources = await context.service.search(context.principal, parseSearchRequest(context.body), context.info, context.signal);
      context.reply.json(200, openai.searchBody(sources));
    },
  },
  {
    method: 'GET',
    path: '/api/tags',
    scope: 'models:read',
    handle: async (context) => answered(context, ollama.tagsBody(context.service.models(context.principal))),
  },
  {
    method: 'GET',
    path: '/api/version',
    scope: 'models:read',
    handle: async (context) => answered(context, { version: product.version }),
  },
  {
    method: 'POST',
    path: '/api/chat',
    scope: 'chat',
    handle: async (context) => {
      const { request, stream } = ollama.parseChat(context.body);
      await runCompletion(context, request, stream, ollamaShape(request.model, 'chat'));
    },
  },
  {
    method: 'POST',
    path: '/api/generate',
    scope: 'chat',
    handle: async (context) => {
      const { request, stream, empty } = ollama.parseGenerate(context.body);
      if (empty) {
        findModel(context, request.model);
        answered(context, ollama.generateLoaded(request.model));
        return;
      }
      await runCompletion(context, request, stream, ollamaShape(request.model, 'generate'));
    },
  },
  {
    method: 'POST',
    path: '/api/embed',
    scope: 'embeddings',
    handle: async (context) => {
      const result = await context.service.embed(context.principal, ollama.parseEmbed(context.body, false), context.info, context.signal);
      context.reply.json(200, ollama.embedBody(result, false));
    },
  },
  {
    method: 'POST',
    path: '/api/embeddings',
    scope: 'embeddings',
    handle: async (context) => {
      const result = await context.service.embed(context.principal, ollama.parseEmbed(context.body, true), context.info, context.signal);
      context.reply.json(200, ollama.embedBody(result, true));
    },
  },
];

export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly param: string | null }
  | { readonly kind: 'not_found' }
  | { readonly kind: 'wrong_method'; readonly allow: string };

/** The route for a method and path; a path some route has under another method is a 405, not a 404. */
export function matchRoute(method: string, pathname: string, routes: readonly Route[] = ROUTES): RouteMatch {
  const fits = (route: Route): { param: string | null } | null => {
    if (route.path.endsWith('/')) {
      if (!pathname.startsWith(route.path) || pathname.length === route.path.length) return null;
      const rest = pathname.slice(route.path.length);
      if (rest.includes('/')) return null;
      try {
        return { param: decodeURIComponent(rest) };
      } catch {
        return null;
      }
    }
    return pathname === route.path ? { param: null } : null;
  };
  const methods: string[] = [];
  for (const route of routes) {
    const fit = fits(route);
    if (fit === null) continue;
    if (route.method === method) return { kind: 'found', route, param: fit.param };
    methods.push(route.method);
  }
  if (methods.length > 0) return { kind: 'wrong_method', allow: [...new Set(methods), 'OPTIONS'].join(', ') };
  return { kind: 'not_found' };
}

export function badPath(pathname: string): RequestError {
  return new RequestError(`Unknown endpoint ${pathname}.`, null, 404);
}
