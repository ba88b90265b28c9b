import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/sqlite.ts';
import { token, type CrashLine } from '../../../test-support/chat-crash-writer.ts';
import { createChatStore } from './store.ts';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test-support/chat-crash-writer.ts');
const RUNS = 5;

let dir: string | undefined;

afterAll(async () => {
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** Starts the writer and SIGKILLs it once it has acknowledged `flushes` writes of the growing answer. */
function runAndKill(dataDir: string, flushes: number): Promise<{ lines: CrashLine[]; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: CrashLine[] = [];
    let pending = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part) as CrashLine);
      if (lines.filter((line) => line.kind === 'flushed').length >= flushes) child.kill('SIGKILL');
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ lines, signal, stderr }));
  });
}

describe('chat storage under SIGKILL', () => {
  it(
    `keeps every completed message and the partial answer, marked interrupted (${RUNS} kills mid-stream; the streaming writer is simulated in a child process, without a model)`,
    { timeout: 60_000 },
    async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'soberana-chat-crash-'));
      const full = Array.from({ length: 20_000 }, (_, index) => token(index)).join('');
      for (let run = 0; run < RUNS; run += 1) {
        const dataDir = path.join(dir, `run-${run}`);
        const outcome = await runAndKill(dataDir, 2 + run * 3);
        expect(outcome.signal, outcome.stderr).toBe('SIGKILL');
        const conversation = outcome.lines.find((line) => line.kind === 'conversation');
        const completed = outcome.lines.flatMap((line) => (line.kind === 'complete' ? [line] : []));
        const lastFlush = outcome.lines.findLast((line) => line.kind === 'flushed');
        expect(conversation?.kind === 'conversation' && completed.length === 3 && lastFlush?.kind === 'flushed', outcome.stderr).toBe(true);

        // What the app does when it starts again.
        const db = openDatabase(dataDir);
        try {
          expect(db.prepare('PRAGMA integrity_check').all()).toEqual([{ integrity_check: 'ok' }]);
          const store = createChatStore(db);
          const thread = store.thread(conversation?.kind === 'conversation' ? conversation.id : '');
          expect(thread.messages.slice(0, 3).map((message) => [message.id, message.content, message.status])).toEqual(
            completed.map((line) => [line.messageId, line.content, 'complete']),
          );
          const partial = thread.messages[3];
          expect(partial).toMatchObject({ role: 'assistant', status: 'interrupted', modelName: 'simulated' });
          // At least what was acknowledged, and only ever a prefix of what was generated.
          const acknowledged = lastFlush?.kind === 'flushed' ? lastFlush.content : '';
          expect(partial!.content.startsWith(acknowledged)).toBe(true);
          expect(full.startsWith(partial!.content)).toBe(true);
          expect(thread.messages).toHaveLength(4);
          expect(db.prepare("SELECT count(*) AS n FROM messages WHERE status = 'streaming'").get()).toEqual({ n: 0 });
        } finally {
          db.close();
        }
      }
    },
  );
});
