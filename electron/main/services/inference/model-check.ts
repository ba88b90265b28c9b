import path from 'node:path';
import { checkGgufFile } from '../gguf/index.ts';
import type { ModelCheck } from './engine.ts';

/**
 * The gate in front of the inference process: only files the GGUF validator accepts
 * reach llama.cpp. The name shown is the file's own `general.name`, else its file name.
 */
export async function checkModelFile(filePath: string): Promise<ModelCheck> {
  const result = await checkGgufFile(filePath);
  if (!result.ok) return { ok: false, message: result.rejection.message };
  return { ok: true, name: result.facts.name ?? path.basename(filePath), kind: result.facts.kind };
}
