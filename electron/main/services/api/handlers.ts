import type { Contract } from '../../../common/contract/index.ts';
import type { Handlers } from '../../../common/handlers.ts';
import { ok } from '../../../common/result.ts';
import type { ApiController } from './controller.ts';
import type { ApiTokens } from './tokens.ts';

// The Settings screen's view of the local API: whether it listens, and its tokens.

type ApiHandlers = Pick<Handlers<Contract>, 'api.status' | 'api.tokens' | 'api.createToken' | 'api.revokeToken'>;

export function createApiHandlers(deps: { controller: ApiController; tokens: ApiTokens }): ApiHandlers {
  const { controller, tokens } = deps;
  return {
    'api.status': () => ok(controller.status()),
    'api.tokens': () => ok({ tokens: tokens.list() }),
    'api.createToken': (input) => ok(tokens.create(input)),
    'api.revokeToken': ({ id }) => ok(tokens.revoke(id)),
  };
}
