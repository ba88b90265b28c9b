import type { ErrorCode } from './result.ts';

/**
 * The HTTP status each error code is answered with by the local API. One table for the server
 * (which answers with it) and the API service (which writes it into each request's audit
 * record), so the status on the record is always the status the client got.
 */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  bad_request: 400,
  rejected_file: 400,
  unauthorized: 401,
  forbidden: 403,
  quarantined: 403,
  unknown_endpoint: 404,
  not_found: 404,
  no_model: 404,
  too_many_requests: 429,
  cancelled: 499,
  io_error: 500,
  runtime_crashed: 500,
  out_of_memory: 500,
  internal: 500,
  busy: 503,
  unavailable: 503,
  audit_unavailable: 503,
};
