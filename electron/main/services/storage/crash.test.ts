import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, openSettings } from '../settings.ts';
import { CRASH_EVENT, type CrashLine } from '../../../test-support/storage-crash-writer.ts';
import { openDatabase } from './sqlite.ts';
import { uniform } from '../../../../e2e/fixtures/gguf/prng.ts';

const WRITER = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../../test-support/storage-crash-writer.ts');
const KILLS = 50;
const MIN_DELAY_MS = 20;
const MAX_DELAY_MS = 250;
/** Fixed so that a failure can be replayed; CRASH_SEED overrides it to explore other timings. */
const SEED = Number(process.env.CRASH_SEED ?? 0x50be);

/** mulberry32: a tiny seeded generator, enough to spread kill times reproducibly. */

interface RunOutcome {
  readonly lines: CrashLine[];
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

const children = new Set<ChildProcess>();

/** Starts a writer, kills it `delayMs` after its first acknowledgement, and returns every complete line it printed. */
function runAndKill(dataDir: string, run: number, firstSeq: number, delayMs: number): Promise<RunOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--no-warnings', WRITER, dataDir, String(run), String(firstSeq)], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const lines: CrashLine[] = [];
    let pending = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      const parts = (pending + chunk).split('\n');
      // The last part has no newline yet: it may be cut short by the kill, so it is never trusted.
      pending = parts.pop() ?? '';
      for (const part of parts) lines.push(JSON.parse(part) as CrashLine);
      if (timer === undefined && lines.some((line) => line.kind === 'event-ack')) {
        timer = setTimeout(() => child.kill('SIGKILL'), delayMs);
      }
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    // 'close', not 'exit': every byte of stdout has been read by then.
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({ lines, signal, stderr });
    });
  });
}

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
});

describe('storage under SIGKILL', () => {
  it(`keeps every acknowledged write across ${KILLS} kills at random moments`, { timeout: 120_000 }, async () => {
    const started = performance.now();
    const random = uniform(SEED);
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-crash-'));
    let nextSeq = 0;
    let maxId = 0;
    let settingsValue = DEFAULT_SETTINGS.runtime.sampling.maxTokens;
    let ackedEvents = 0;
    let ackedSettings = 0;
    let unackedCommits = 0;
    let passed = 0;
    const delays: number[] = [];

    try {
      for (let run = 0; run < KILLS; run += 1) {
        const delay = Math.round(MIN_DELAY_MS + random() * (MAX_DELAY_MS - MIN_DELAY_MS));
        delays.push(delay);
        const outcome = await runAndKill(dataDir, run, nextSeq, delay);
        const context = `run ${run} (seed ${SEED}, delay ${delay} ms)\n${outcome.stderr}`;
        expect(outcome.signal, context).toBe('SIGKILL');

        const eventAcks = outcome.lines.flatMap((line) => (line.kind === 'event-ack' ? [line] : []));
        expect(eventAcks.length, context).toBeGreaterThan(0);
        const lastEventIntent = outcome.lines.findLast((line) => line.kind === 'event-intent');
        const lastSettingsAck = outcome.lines.findLast((line) => line.kind === 'settings-ack');
        const lastSettingsIntent = outcome.lines.findLast((line) => line.kind === 'settings-intent');

        const db = openDatabase(dataDir);
        try {
          expect(db.prepare('PRAGMA integrity_check').all(), context).toEqual([{ integrity_check: 'ok' }]);

          // Events: every acknowledged one is there, unchanged; at most the one in flight is extra.
          const rows = db.prepare('SELECT id, type, data FROM app_events WHERE id > ? ORDER BY id').all(maxId) as { id: number; type: string; data: string }[];
          const byId = new Map(rows.map((row) => [row.id, row]));
          for (const ack of eventAcks) expect(byId.get(ack.id), `${context}event ${ack.id}`).toEqual({ id: ack.id, type: CRASH_EVENT, data: ack.data });
          const extra = rows.filter((row) => !eventAcks.some((ack) => ack.id === row.id));
          expect(extra.length, context).toBeLessThanOrEqual(1);
          if (extra[0] !== undefined) {
            const acked = eventAcks.some((ack) => ack.data === lastEventIntent?.data);
            expect(acked, `${context}an extra event exists but the last intent was acknowledged`).toBe(false);
            expect(extra[0].data, context).toBe(lastEventIntent?.data);
            unackedCommits += 1;
          }
          maxId = Math.max(maxId, ...rows.map((row) => row.id));

          // Settings: the last acknowledged value, or the one in flight after it.
          const allowed = new Set([lastSettingsAck?.value ?? settingsValue]);
          if (lastSettingsIntent !== undefined && lastSettingsIntent.value !== lastSettingsAck?.value) allowed.add(lastSettingsIntent.value);
          const stored = (await openSettings(db, dataDir, () => undefined)).get().runtime.sampling.maxTokens;
          expect([...allowed], context).toContain(stored);
          if (stored !== (lastSettingsAck?.value ?? settingsValue)) unackedCommits += 1;
          settingsValue = stored;
        } finally {
          db.close();
        }

        ackedEvents += eventAcks.length;
        ackedSettings += outcome.lines.filter((line) => line.kind === 'settings-ack').length;
        const intents = outcome.lines.flatMap((line) => (line.kind === 'event-intent' ? [JSON.parse(line.data) as { seq: number }] : []));
        nextSeq = Math.max(nextSeq, ...intents.map((intent) => intent.seq + 1));
        passed += 1;
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }

    const seconds = (performance.now() - started) / 1000;
    console.log(
      `crash test: ${passed}/${KILLS} SIGKILLs recovered with integrity_check ok and every acknowledged write present; ` +
        `${ackedEvents} events and ${ackedSettings} settings updates acknowledged, ${unackedCommits} committed just before the kill without an ack; ` +
        `kill delays ${Math.min(...delays)}–${Math.max(...delays)} ms after the first ack; seed ${SEED}; ${seconds.toFixed(1)} s`,
    );
    expect(passed).toBe(KILLS);
  });
});
