import type { RuntimeFailure } from '../common/runtime/protocol.ts';

/** A failure the inference process reports as it is (code and words), not as an internal error. */
export class RuntimeError extends Error {
  readonly failure: RuntimeFailure;
  constructor(failure: RuntimeFailure) {
    super(failure.message);
    this.failure = failure;
  }
}
