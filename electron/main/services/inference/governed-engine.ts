import { AppError } from '../../../common/result.ts';
import type { Emit } from '../domain/events.ts';
import type { Gate } from '../domain/gate.ts';
import type { Governance } from '../governance.ts';
import type { RuntimeEngine } from './engine.ts';
import type { ModelLookup } from './model-events.ts';

// Every model load and every generation passes here, whoever asked: chat, the Models
// screen, the runtime endpoints that load a picked file, `soberana generate`. So the model
// rules (no file the library does not know when only signed or allowed models may run, the
// allow-list of hashes) and the audit gate cannot be stepped around by loading a file
// directly instead of through the library.

/** A generation outside any conversation is recorded as a chat turn of this pseudo-conversation. */
export const DIRECT_GENERATION = 'direct';

export function governedEngine<E extends RuntimeEngine>(engine: E, deps: { lookup: ModelLookup; governance: Governance; gate: Gate; emit: Emit }): E {
  const { lookup, governance, gate, emit } = deps;
  return {
    ...engine,
    async load(filePath, options, onProgress, signal, displayName) {
      gate.check('runtime.load');
      const known = lookup.byPath(filePath);
      const policy = governance.policy;
      if (known === null && (!policy.models.allowUnsigned || policy.models.allowedHashes !== null)) {
        // Its hash is unknown until the whole file is read; the library is where files are hashed, checked and vouched for.
        const refusal = new AppError(
          'forbidden',
          `This machine's policy allows only models in the library that it allows. Import the file on the Models screen (or with "soberana models import") first.`,
          filePath,
        );
        emit({ type: 'action.refused', data: { action: 'runtime.load', reason: `${refusal.code}: ${refusal.message}` } });
        throw refusal;
      }
      if (known !== null) gate.checkModel('runtime.load', { sha256: known.sha256, name: displayName ?? known.id });
      // A file outside the library is hashed before it loads, so its load and its answers are on the record by hash.
      else await lookup.hashLoose(filePath, signal);
      return engine.load(filePath, options, onProgress, signal, displayName);
    },
    async generate(params, onDelta, signal) {
      gate.check('runtime.generate');
      let response = '';
      const stats = await engine.generate(
        params,
        (delta) => {
          response += delta.text;
          onDelta(delta);
        },
        signal,
      );
      const loaded = engine.state().model;
      const model = loaded === null ? null : lookup.byPath(loaded.path);
      if (model !== null)
        emit({
          type: 'chat.turn',
          data: { conversationId: DIRECT_GENERATION, modelSha256: model.sha256, collections: [], chunkIds: [], prompt: params.prompt, response },
        });
      return stats;
    },
    async chat(request, onDelta, signal) {
      gate.check('chat.send');
      return engine.chat(request, onDelta, signal);
    },
    // The local API's completions: the API service writes each request's audit record itself
    // (api.request, with the token and sizes), so only the gate is here.
    async complete(params, onDelta, signal) {
      gate.check('runtime.generate');
      return engine.complete(params, onDelta, signal);
    },
  };
}
