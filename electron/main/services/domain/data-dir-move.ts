import { stat } from 'node:fs/promises';
import path from 'node:path';
import { createAuditTrail } from '../audit-trail.ts';
import { dataDirMarkerPath, detectDataDirChange, recordDataDir } from '../data-dir.ts';
import type { Governance } from '../governance.ts';
import { DATABASE_FILE, openDatabase } from '../storage/sqlite.ts';

/**
 * At start, when the app runs on another data folder than last time: the move goes on the
 * OLD folder's audit log, where someone reviewing it would otherwise see the records simply
 * stop. Then the marker (kept in the default folder) names the new one.
 */
export async function noteDataDirMove(options: {
  defaultDir: string;
  dataDir: string;
  governance: Governance;
  log?: (level: string, message: string) => void;
}): Promise<'moved' | 'same'> {
  const marker = dataDirMarkerPath(options.defaultDir);
  const change = await detectDataDirChange(marker, options.dataDir);
  if (change.changed && change.from !== null) {
    const from = change.from;
    const hasDatabase = await stat(path.join(from, DATABASE_FILE)).then(
      (info) => info.isFile(),
      () => false,
    );
    if (hasDatabase) {
      const db = openDatabase(from);
      try {
        const trail = createAuditTrail({ db, dataDir: from, governance: options.governance, ...(options.log === undefined ? {} : { log: options.log }) });
        trail.record({ type: 'data_dir.changed', data: { from, to: path.resolve(options.dataDir) } });
        if (trail.problem !== null) options.log?.('error', `The move to another data folder could not be recorded in ${from}: ${trail.problem.message}`);
      } finally {
        db.close();
      }
    }
  }
  await recordDataDir(marker, options.dataDir);
  return change.changed ? 'moved' : 'same';
}
