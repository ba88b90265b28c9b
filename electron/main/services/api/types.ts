import type { ApiScope, ApiStatus } from '../../../common/contract/index.ts';
import type { CompletionMessage, CompletionOutcome, CompletionParams, ToolSpec } from '../../../common/runtime/protocol.ts';

// What the local API's HTTP server (electron/server/) may ask of the services. The server
// owns HTTP: parsing, the Host and Origin checks, sizes, time limits and the OpenAI and
// Ollama shapes. Every rule about who may do what (tokens, scopes, the policy, locks, PII,
// collections, concurrency per token, the audit record of each request) lives behind this
// interface, in services/api/, so the server cannot hold a rule of its own.

/** Whom a valid token speaks for. */
export interface ApiPrincipal {
  readonly tokenId: string;
  /** The token's name: what the audit log records. */
  readonly name: string;
  /** The token's scopes, already narrowed by the policy's `api.scopes`. */
  readonly scopes: readonly ApiScope[];
  /** Collection ids the token may use; null: every collection. */
  readonly collections: readonly string[] | null;
}

/** Facts about one HTTP request, for the audit record. */
export interface ApiRequestInfo {
  /** e.g. `POST /v1/chat/completions`. */
  readonly endpoint: string;
  readonly requestBytes: number;
}

/** A model as the API lists it; `id` is what clients pass as `model`. */
export interface ApiModel {
  /** A name scripts can type: the library name, lower-case, spaces as dashes (unique). */
  readonly id: string;
  readonly libraryId: string;
  readonly name: string;
  readonly kind: 'chat' | 'embedding' | 'reranking';
  readonly sha256: string;
  readonly sizeBytes: number;
  /** ISO date-time it was added to the library. */
  readonly addedAt: string;
  readonly family: string | null;
  readonly parameterSize: string | null;
  readonly quantization: string | null;
}

/** A chat or raw completion: CompletionParams with the model by API id, and optional collections. */
export interface ApiCompletionRequest {
  readonly model: string;
  readonly messages: readonly CompletionMessage[] | null;
  readonly prompt: string | null;
  /** Each absent value takes the app's setting (and every value meets the policy's locks). */
  readonly sampling: Partial<CompletionParams['sampling']>;
  readonly stop: readonly string[];
  readonly format: CompletionParams['format'];
  readonly tools: readonly ToolSpec[];
  readonly toolChoice: CompletionParams['toolChoice'];
  /** Answer from these collections (needs the `knowledge` scope); their passages are returned as `sources`. */
  readonly collections: readonly string[];
}

export interface ApiSource {
  readonly documentId: string;
  readonly documentName: string;
  readonly collectionId: string;
  /** 1-based page, or null for documents without pages. */
  readonly page: number | null;
  readonly score: number;
  readonly text: string;
  /** Its classification marking as text ("RESTRICTED // FINANCE"), when the policy defines markings. */
  readonly marking?: string;
}

export interface ApiCompletionResult extends CompletionOutcome {
  /** The API id of the model that answered. */
  readonly model: string;
  readonly sources: readonly ApiSource[];
}

export interface ApiEmbedResult {
  readonly model: string;
  readonly vectors: readonly (readonly number[])[];
  readonly promptTokens: number;
}

export interface ApiSearchRequest {
  readonly collection: string;
  readonly query: string;
  readonly k: number;
}

export interface ApiService {
  /** Whether the API should listen now (policy and settings), and where. */
  status(): ApiStatus;
  /**
   * The token behind `Authorization: Bearer …`, if it is valid, unexpired, unrevoked and has
   * `scope` (after the policy's narrowing). Throws AppError `unauthorized` (401) or
   * `forbidden` (403), and records the refusal.
   */
  authenticate(bearer: string | null, scope: ApiScope, request: ApiRequestInfo): ApiPrincipal;
  /** Records a refusal the server decided before authenticating (Host, Origin, size, time). */
  refused(request: ApiRequestInfo, status: number, reason: string, token?: string | null): void;
  /** Records a request answered without the model (a model list, the version): every request served is on the record. */
  served(principal: ApiPrincipal, request: ApiRequestInfo, status: number, responseBytes: number): void;
  /** Chat and embedding models in the library that the policy allows. */
  models(principal: ApiPrincipal): readonly ApiModel[];
  /**
   * Loads the model if needed and answers, streaming `onDelta(text)` as it is written.
   * Waits its turn with the app's own generations (fair, by lane); throws AppError
   * `too_many_requests` when the token already has too many requests in flight.
   */
  complete(
    principal: ApiPrincipal,
    request: ApiCompletionRequest,
    info: ApiRequestInfo,
    onDelta: (text: string) => void,
    signal: AbortSignal,
  ): Promise<ApiCompletionResult>;
  embed(principal: ApiPrincipal, request: { model: string; input: readonly string[] }, info: ApiRequestInfo, signal: AbortSignal): Promise<ApiEmbedResult>;
  search(principal: ApiPrincipal, request: ApiSearchRequest, info: ApiRequestInfo, signal: AbortSignal): Promise<readonly ApiSource[]>;
}

/**
 * What the services need from a server, so that Settings can start and stop it: main and the
 * CLI pass electron/server/'s; without one, the status says the API is unavailable here.
 */
export interface ApiListener {
  /** Listens on 127.0.0.1 and ::1 at `port`; resolves with the addresses, rejects when it cannot. */
  start(port: number, options: { readonly allowedOrigins: readonly string[] }): Promise<readonly string[]>;
  stop(): Promise<void>;
}
