import { HTTP_STATUS } from '../../../common/http-status.ts';
import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { ApiPrincipal, ApiRequestInfo } from './types.ts';

// The audit records the local API leaves: one `api.request` per request it served or failed
// (sizes and token counts; the text, which the log keeps only at the `full` level) and one
// `api.refused` per request it turned away (refusal-log.ts). The HTTP status is the one the server answers with.

/** The HTTP status a failure is answered with, for its audit record. */
export const statusOf = (error: unknown): number => (error instanceof AppError ? HTTP_STATUS[error.code] : 500);

const clip = (text: string, max: number) => (text.length > max ? text.slice(0, max) : text);

export interface RequestFacts {
  readonly modelSha256: string | null;
  readonly collections: readonly string[];
  readonly responseBytes: number;
  readonly promptTokens: number;
  readonly completionTokens: number;
  readonly prompt: string | null;
  readonly response: string | null;
  /** The highest marking of the passages served ("RESTRICTED // FINANCE"); null when none or without markings. */
  readonly marking?: string | null;
}

export const NO_FACTS: RequestFacts = {
  modelSha256: null,
  collections: [],
  responseBytes: 0,
  promptTokens: 0,
  completionTokens: 0,
  prompt: null,
  response: null,
};

export function recordRequest(emit: Emit, principal: ApiPrincipal, info: ApiRequestInfo, status: number, facts: RequestFacts): void {
  emit({
    type: 'api.request',
    data: {
      token: clip(principal.name, 100),
      endpoint: clip(info.endpoint, 200),
      status,
      modelSha256: facts.modelSha256,
      collections: [...facts.collections],
      requestBytes: Math.max(0, Math.trunc(info.requestBytes)),
      responseBytes: facts.responseBytes,
      promptTokens: facts.promptTokens,
      completionTokens: facts.completionTokens,
      prompt: facts.prompt,
      response: facts.response,
      ...(facts.marking === undefined || facts.marking === null ? {} : { marking: facts.marking }),
    },
  });
}

export const bytes = (text: string): number => Buffer.byteLength(text, 'utf8');
