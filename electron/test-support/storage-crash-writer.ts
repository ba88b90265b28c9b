// Child process of storage/crash.test.ts: writes through the real storage code until it is killed.
// Usage: node storage-crash-writer.ts <dataDir> <run> <firstSeq>
//
// Every write is announced before it starts ("intent") and acknowledged after it commits
// ("ack"), one line each, so the parent knows which writes must have survived the kill and
// which single write may or may not have.
import { writeSync } from 'node:fs';
import { openSettings } from '../main/services/settings.ts';
import { appendEvent } from '../main/services/storage/events.ts';
import { openDatabase } from '../main/services/storage/sqlite.ts';

export const CRASH_EVENT = 'crash.write';

export type CrashLine =
  | { readonly kind: 'event-intent'; readonly data: string }
  | { readonly kind: 'event-ack'; readonly id: number; readonly data: string }
  | { readonly kind: 'settings-intent'; readonly value: number }
  | { readonly kind: 'settings-ack'; readonly value: number };

/** maxTokens runs 1…32768, so the value cycles; a stale value would need 32768 writes to look current. */
export const settingsValue = (seq: number): number => (seq % 32_768) + 1;

/** Padding varies so that pages split and the WAL checkpoints at different moments. */
export function eventData(run: number, seq: number): string {
  return JSON.stringify({ run, seq, fill: 'x'.repeat((seq * 7919) % 1500) });
}

function emit(line: CrashLine): void {
  // Synchronous on every platform: an ack must be out of the process before the next write starts.
  writeSync(1, `${JSON.stringify(line)}\n`);
}

async function main(): Promise<void> {
  const [dataDir, runText, firstText] = process.argv.slice(2);
  if (dataDir === undefined || runText === undefined || firstText === undefined) throw new Error('usage: storage-crash-writer.ts <dataDir> <run> <firstSeq>');
  const run = Number(runText);
  const db = openDatabase(dataDir);
  const settings = await openSettings(db, dataDir, () => undefined);
  // The parent kills the child; this only stops an orphan whose parent died without doing so.
  const deadline = Date.now() + 30_000;

  for (let seq = Number(firstText); Date.now() < deadline; seq += 1) {
    const data = eventData(run, seq);
    emit({ kind: 'event-intent', data });
    const id = appendEvent(db, CRASH_EVENT, JSON.parse(data));
    emit({ kind: 'event-ack', id, data });

    const value = settingsValue(seq);
    const current = settings.get().runtime;
    emit({ kind: 'settings-intent', value });
    await settings.update({ runtime: { ...current, sampling: { ...current.sampling, maxTokens: value } } });
    emit({ kind: 'settings-ack', value });
  }
  db.close();
}

if (import.meta.main) await main();
