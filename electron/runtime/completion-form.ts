import type { ChatHistoryItem, ChatModelFunctions, GbnfJsonSchema, Llama, LlamaGrammar } from 'node-llama-cpp';
import { grammarSchema, toolArgumentsSchema, UnsupportedSchemaError } from '../common/runtime/grammar-schema.ts';
import type { CompletionOutcome, CompletionParams, ToolSpec } from '../common/runtime/protocol.ts';
import type { LoadedChat } from './chat-model.ts';
import { RuntimeError } from './runtime-error.ts';

// The form of a stateless completion's reply (see completion.ts): the grammar of a response
// format, the tools as node-llama-cpp's functions, and forced tool calls (the tools described
// in a system message, the call generated under a grammar, and read back as tool calls).
// Schemas go through grammar-schema.ts first; what it cannot enforce is a bad_request.

function badSchema(error: unknown, where: string): RuntimeError {
  const message = error instanceof Error ? error.message : String(error);
  return new RuntimeError({ code: 'bad_request', message: `${where}: ${message}` });
}

async function schemaGrammar(loaded: LoadedChat, schema: Record<string, unknown>, where: string): Promise<LlamaGrammar> {
  try {
    // The schema was checked by grammar-schema.ts; node-llama-cpp's type is its literal shape, known only at run time here.
    return await loaded.llama.createGrammarForJsonSchema(schema as Parameters<Llama['createGrammarForJsonSchema']>[0]);
  } catch (error) {
    throw badSchema(error, where);
  }
}

export async function formatGrammar(loaded: LoadedChat, format: CompletionParams['format']): Promise<LlamaGrammar | undefined> {
  if (format === null) return undefined;
  if (format.kind === 'json') return loaded.llama.getGrammarFor('json');
  let schema: Record<string, unknown>;
  try {
    schema = grammarSchema(format.schema);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) throw badSchema(error, 'The response format');
    throw error;
  }
  return schemaGrammar(loaded, schema, 'The response format');
}

function toolSchema(tool: ToolSpec): Record<string, unknown> {
  try {
    return toolArgumentsSchema(tool.parameters);
  } catch (error) {
    if (error instanceof UnsupportedSchemaError) throw badSchema(error, `The tool "${tool.name}"`);
    throw error;
  }
}

/** Tools as node-llama-cpp's function definitions, without handlers: a call ends the reply and comes back to the client. */
export function chatFunctions(tools: readonly ToolSpec[]): ChatModelFunctions {
  return Object.fromEntries(
    tools.map((tool) => [
      tool.name,
      {
        ...(tool.description === '' ? {} : { description: tool.description }),
        ...(tool.parameters === null ? {} : { params: toolSchema(tool) as GbnfJsonSchema }),
      },
    ]),
  );
}

/** The tools a forced call may pick from; an unknown name is the client's mistake. */
export function forcedTools(params: CompletionParams): readonly ToolSpec[] | null {
  const choice = params.toolChoice;
  if (choice === 'auto' || choice === 'none') return null;
  if (params.tools.length === 0) throw new RuntimeError({ code: 'bad_request', message: 'A tool call was required, but the request lists no tools.' });
  if (choice === 'required') return params.tools;
  const tool = params.tools.find(({ name }) => name === choice.name);
  if (tool === undefined) throw new RuntimeError({ code: 'bad_request', message: `The tool "${choice.name}" is not among the request's tools.` });
  return [tool];
}

export function forcedInstruction(tools: readonly ToolSpec[]): string {
  const described = tools.map((tool) =>
    [`- ${tool.name}${tool.description === '' ? '' : `: ${tool.description}`}`, `  arguments (JSON schema): ${JSON.stringify(toolSchema(tool))}`].join('\n'),
  );
  return tools.length === 1
    ? `Call the tool "${tools[0]!.name}" now. Reply with its arguments only, as a JSON object.\n${described.join('\n')}`
    : `Call one of these tools now. Reply with only a JSON object {"name": the tool's name, "arguments": its arguments}.\n${described.join('\n')}`;
}

export function withSystemText(history: readonly ChatHistoryItem[], text: string): ChatHistoryItem[] {
  const first = history[0];
  if (first?.type === 'system' && typeof first.text === 'string') return [{ type: 'system', text: `${first.text}\n\n${text}` }, ...history.slice(1)];
  return [{ type: 'system', text }, ...history];
}

/** The forced call's reply as tool calls; null when it is not complete JSON (cut by maxTokens, or stopped). */
export function forcedCalls(tools: readonly ToolSpec[], text: string): CompletionOutcome['toolCalls'] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (tools.length === 1) return [{ name: tools[0]!.name, arguments: JSON.stringify(value) }];
  const picked = value as { name?: unknown; arguments?: unknown };
  if (typeof picked.name !== 'string') return null;
  return [{ name: picked.name, arguments: JSON.stringify(picked.arguments ?? {}) }];
}

/** The grammar of a forced call: the tool's arguments, or `{"name", "arguments"}` as a oneOf over several tools. */
export function forcedGrammar(loaded: LoadedChat, tools: readonly ToolSpec[]): Promise<LlamaGrammar> {
  const schema =
    tools.length === 1
      ? toolSchema(tools[0]!)
      : { oneOf: tools.map((tool) => ({ type: 'object', properties: { name: { const: tool.name }, arguments: toolSchema(tool) } })) };
  return schemaGrammar(loaded, schema, 'The tools');
}
