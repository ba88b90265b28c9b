import { ConversationSettings, type ChatPreset } from '../../../common/contract/chat.ts';
import { AppError } from '../../../common/result.ts';
import type { Database } from '../storage/sqlite.ts';
import { newId, parseJson } from './rows.ts';

// Presets: named conversation settings the user saves and applies.

export interface PresetStore {
  listPresets(): ChatPreset[];
  preset(id: string): ChatPreset;
  savePreset(input: { id?: string; name: string; settings: ConversationSettings }): ChatPreset;
  removePreset(id: string): void;
}

interface PresetRow {
  id: string;
  name: string;
  settings: string;
}

function toPreset(row: PresetRow): ChatPreset | null {
  const settings = ConversationSettings.safeParse(parseJson(row.settings));
  return settings.success ? { id: row.id, name: row.name, settings: settings.data } : null;
}

export function createPresetStore(db: Database, now: () => Date): PresetStore {
  const iso = () => now().toISOString();

  return {
    listPresets() {
      const rows = db.prepare('SELECT id, name, settings FROM presets ORDER BY name COLLATE NOCASE, created_at, id').all() as unknown as PresetRow[];
      return rows.flatMap((row) => {
        const preset = toPreset(row);
        return preset === null ? [] : [preset];
      });
    },

    preset(id) {
      const row = db.prepare('SELECT id, name, settings FROM presets WHERE id = ?').get(id) as PresetRow | undefined;
      const preset = row === undefined ? null : toPreset(row);
      if (preset === null) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
      return preset;
    },

    savePreset({ id, name, settings }) {
      const at = iso();
      const json = JSON.stringify(settings);
      if (id === undefined) {
        const created = newId();
        db.prepare('INSERT INTO presets (id, name, settings, created_at, updated_at) VALUES (?, ?, ?, ?, ?)').run(created, name, json, at, at);
        return { id: created, name, settings };
      }
      const changed = db.prepare('UPDATE presets SET name = ?, settings = ?, updated_at = ? WHERE id = ?').run(name, json, at, id).changes;
      if (Number(changed) === 0) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
      return { id, name, settings };
    },

    removePreset(id) {
      const changed = db.prepare('DELETE FROM presets WHERE id = ?').run(id).changes;
      if (Number(changed) === 0) throw new AppError('not_found', 'That preset does not exist.', `preset ${id}`);
    },
  };
}
