import { HTTP_STATUS } from '../common/http-status.ts';
import { AppError, type ErrorCode } from '../common/result.ts';

// Errors as each API speaks them. The services throw AppError with a code; this maps the code
// to an HTTP status and the body to OpenAI's `{error:{message,type,param,code}}` or Ollama's
// `{error:"..."}`. Anything that is not an AppError is an internal error whose text is not sent.

/** A request the server could not read: a bad body or a bad field (`param` names it, as OpenAI does). */
export class RequestError extends AppError {
  readonly param: string | null;
  readonly status: number;
  constructor(message: string, param: string | null = null, status = 400) {
    super('bad_request', message);
    this.name = 'RequestError';
    this.param = param;
    this.status = status;
  }
}

export function statusFor(code: ErrorCode): number {
  return HTTP_STATUS[code];
}

/** An error ready to send: status, a code for OpenAI's `code`, words for people, and the field at fault. */
export interface HttpError {
  readonly status: number;
  readonly code: string;
  readonly message: string;
  readonly param: string | null;
}

export function httpError(status: number, code: string, message: string, param: string | null = null): HttpError {
  return { status, code, message, param };
}

/** What a thrown value becomes on the wire; an unexpected error keeps its text to the server's log. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof RequestError) return httpError(error.status, 'invalid_request', error.message, error.param);
  if (error instanceof AppError) return httpError(statusFor(error.code), error.code, error.message);
  return httpError(500, 'internal', 'The server met an unexpected error; the request was not completed.');
}

/** OpenAI's `type` for a status: what its SDKs switch on. */
function openaiType(status: number): string {
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  if (status === 404) return 'not_found_error';
  if (status === 429) return 'rate_limit_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export function openaiErrorBody(error: HttpError): { error: { message: string; type: string; param: string | null; code: string } } {
  return { error: { message: error.message, type: openaiType(error.status), param: error.param, code: error.code } };
}

export function ollamaErrorBody(error: HttpError): { error: string } {
  return { error: error.message };
}

/** Which API's shape a path answers in: Ollama's under /api/, OpenAI's everywhere else. */
export type ApiFlavor = 'openai' | 'ollama';

export function flavorOf(pathname: string): ApiFlavor {
  return pathname === '/api' || pathname.startsWith('/api/') ? 'ollama' : 'openai';
}

export function errorBody(flavor: ApiFlavor, error: HttpError): unknown {
  return flavor === 'ollama' ? ollamaErrorBody(error) : openaiErrorBody(error);
}
