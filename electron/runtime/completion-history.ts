import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelResponse } from 'node-llama-cpp';
import type { CompletionMessage } from '../common/runtime/protocol.ts';

// A stateless completion's messages (OpenAI's and Ollama's shape: system, user, assistant
// with its tool calls, tool results) as node-llama-cpp's chat history. In node-llama-cpp
// a tool call and its result live together in the model's response, so each tool message
// is folded into the call it answers. Pure functions.

/** Tool arguments arrive as JSON text; a call whose text is not JSON keeps the text. */
function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** A last assistant message is continued (a prefill): node-llama-cpp answers into the last model response. */
export function toCompletionHistory(messages: readonly CompletionMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = [];
  /** Calls waiting for their result, oldest first, with their ids. */
  let open: { id: string; call: ChatModelFunctionCall }[] = [];
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        history.push({ type: 'system', text: message.content });
        open = [];
        break;
      case 'user':
        history.push({ type: 'user', text: message.content });
        open = [];
        break;
      case 'assistant': {
        const response: ChatModelResponse['response'] = message.content === '' ? [] : [message.content];
        open = [];
        for (const [index, toolCall] of (message.toolCalls ?? []).entries()) {
          const call: ChatModelFunctionCall = {
            type: 'functionCall',
            name: toolCall.name,
            params: parseJson(toolCall.arguments),
            // Until a tool message answers it; an unanswered call is shown with an empty result.
            result: '',
            ...(index === 0 ? { startsNewChunk: true } : {}),
          };
          response.push(call);
          open.push({ id: toolCall.id, call });
        }
        // Two assistant messages in a row are one response, as node-llama-cpp keeps them.
        const last = history.at(-1);
        if (last?.type === 'model') last.response.push(...response);
        else history.push({ type: 'model', response });
        break;
      }
      case 'tool': {
        const index = open.findIndex(({ id }) => message.toolCallId !== undefined && message.toolCallId !== '' && id === message.toolCallId);
        // Without a matching id (Ollama sends none), results answer the calls in order.
        const target = index >= 0 ? open.splice(index, 1)[0] : open.shift();
        if (target !== undefined) target.call.result = parseJson(message.content);
        // A result for no call the history shows: the model still sees it, as the user's words.
        else history.push({ type: 'user', text: `Tool result: ${message.content}` });
        break;
      }
    }
  }
  return history;
}
