import type { Gate } from '../domain/gate.ts';
import type { Database } from '../storage/sqlite.ts';
import { keyIdOf } from './keys.ts';
import { addTrustedKey, removeTrustedKey, type StoredTrustedKey } from './trust.ts';

// The development-mode trust store's changes, governed: the gate refuses them under a
// machine policy (whose keys are the only ones that count) and records them otherwise.

export interface TrustStore {
  trust(key: { publicKey: string; name: string }): StoredTrustedKey;
  /** False when no such key was trusted. */
  untrust(keyId: string): boolean;
}

export function createTrustStore(deps: { db: Database; gate: Gate }): TrustStore {
  const { db, gate } = deps;
  return {
    trust: (key) => gate.perform('keys.trust', keyIdOf(key.publicKey.trim()), () => addTrustedKey(db, key)),
    untrust(keyId) {
      gate.check('keys.untrust');
      const removed = removeTrustedKey(db, keyId);
      if (removed) gate.changed('keys.untrust', keyId);
      return removed;
    },
  };
}
