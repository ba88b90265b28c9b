import type { IncomingMessage } from 'node:http';
import { RequestError } from './errors.ts';

// Reading a request body with a ceiling: a declared Content-Length over the limit is refused
// before a byte is read; a chunked body is counted as it comes and refused when it passes the
// limit. The caller answers 413 and closes the connection.

export const MAX_BODY_BYTES = 8 * 1024 * 1024;

export class BodyTooLargeError extends RequestError {
  constructor(limit: number) {
    super(`The request body is larger than ${Math.round(limit / (1024 * 1024))} MiB.`, null, 413);
    this.name = 'BodyTooLargeError';
  }
}

/** Whether a declared Content-Length already exceeds the limit. */
export function declaredTooLarge(contentLength: string | undefined, limit: number): boolean {
  if (contentLength === undefined) return false;
  const length = Number(contentLength);
  return !Number.isFinite(length) || length > limit;
}

export function readBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  if (declaredTooLarge(request.headers['content-length'], limit)) return Promise.reject(new BodyTooLargeError(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    const onData = (chunk: Buffer): void => {
      if (failed) return;
      size += chunk.length;
      if (size > limit) {
        failed = true;
        chunks.length = 0;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(chunk);
    };
    request.on('data', onData);
    request.once('end', () => {
      if (!failed) resolve(Buffer.concat(chunks, size));
    });
    request.once('error', (error) => {
      if (!failed) reject(error);
      failed = true;
    });
    request.once('aborted', () => {
      if (!failed) reject(new RequestError('The client closed the connection before the body arrived.'));
      failed = true;
    });
  });
}

/** The body as JSON; an empty body reads as an empty object so the field checks name what is missing. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    throw new RequestError('The request body is not valid JSON.');
  }
}
