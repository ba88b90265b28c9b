import type { Passage, RuntimeSettings } from '../../../common/contract/index.ts';
import type { CompletionParams } from '../../../common/runtime/protocol.ts';
import type { RuntimeEngine } from '../inference/engine.ts';
import type { Answerer } from '../knowledge/checks/run.ts';
import { groundedPrompt } from '../knowledge/retrieval/grounding.ts';
import { listModels } from '../models/index.ts';
import type { EffectivePolicy } from '../policy/schema.ts';
import type { Database } from '../storage/sqlite.ts';
import { ensureModel } from './answer.ts';

// A pack check's answer phrases are checked with the default chat model, as a chat would
// answer from the same passages ("answer only from these sources"), but with temperature 0 and
// a fixed seed, so a rerun gives the same answer. Without a default chat model the phrases
// are not checked (the check's answer is "skipped") and only retrieval counts.

/** Room for a sentence or two: the phrases are in the answer's first words or not at all. */
const ANSWER_TOKENS = 256;

export interface PackCheckAnswerDeps {
  readonly db: Database;
  /** The app's lane of the engine (loads and completions take turns with chats). */
  readonly engine: Pick<RuntimeEngine, 'state' | 'hardware' | 'load' | 'chat' | 'complete'>;
  readonly settings: () => RuntimeSettings;
  readonly policy: () => EffectivePolicy;
}

export function packCheckAnswerer(deps: PackCheckAnswerDeps): Answerer {
  return async (question: string, passages: readonly Passage[]) => {
    const model = listModels(deps.db).find((candidate) => candidate.isDefaultChat && candidate.role === 'chat' && candidate.status === 'ok');
    if (model === undefined) return null;
    const signal = new AbortController().signal;
    await ensureModel(deps, model.id, 'auto', signal);
    const params: CompletionParams = {
      messages: [{ role: 'user', content: groundedPrompt(question, passages, true) }],
      prompt: null,
      sampling: { ...deps.settings().sampling, temperature: 0, seed: 0, minP: 0.05, maxTokens: ANSWER_TOKENS },
      stop: [],
      format: null,
      tools: [],
      toolChoice: 'none',
    };
    const outcome = await deps.engine.complete(params, () => undefined, signal);
    return outcome.text;
  };
}
