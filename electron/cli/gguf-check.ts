import { checkGgufFile } from '../main/services/gguf/index.ts';
import type { Command } from './command.ts';
import { EXIT } from './exit-codes.ts';

export const ggufCheck: Command = {
  summary: 'Check a GGUF file before anything loads it',
  help: `Usage: soberana gguf check <file> [--json]

Reads the file's header and tensor table only (never the weights) and reports the
model's facts, or the precise reason the file is refused.

Exit codes: 0 the file passes, 1 it is refused, 2 bad usage, 3 internal error.`,
  positionals: { min: 1, max: 1 },
  async run({ positionals, output }) {
    const file = positionals[0]!;
    const result = await checkGgufFile(file);
    if (output.json) {
      output.out(JSON.stringify({ file, ...result }, null, 2));
    } else if (result.ok) {
      const f = result.facts;
      output.out(
        [
          `ok  ${file}`,
          `  name            ${f.name ?? '(none)'}`,
          `  architecture    ${f.architecture} (${f.kind})`,
          `  parameters      ${f.parameterCount.toLocaleString('en-US')}`,
          `  quantization    ${f.quantization}`,
          `  context length  ${f.contextLength}`,
          `  layers          ${f.layerCount}`,
          `  embedding       ${f.embeddingLength}`,
          `  chat template   ${f.hasChatTemplate ? 'yes' : 'no'}`,
          `  GGUF            v${f.version}, ${f.tensorCount} tensors, ${f.metadataKeys} keys, ${f.fileSize.toLocaleString('en-US')} bytes`,
        ].join('\n'),
      );
    } else {
      const where = result.rejection.offset === undefined ? '' : ` (at byte ${result.rejection.offset})`;
      output.err(`refused  ${file}\n  ${result.rejection.code}: ${result.rejection.message}${where}`);
    }
    return result.ok ? EXIT.ok : EXIT.problem;
  },
};
