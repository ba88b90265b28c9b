import { POLICY_LAYOUT } from './os-layout.ts';
import { POLICY_VERSION } from './schema.ts';

// The policy as an MDM profile puts it in /Library/Managed Preferences/org.soberana.app.plist,
// from the JSON `plutil -convert json -o - <file>` prints. Pure: the caller runs plutil. A
// plist holds the policy document as is, except that it has no null (see os-layout.ts).

export interface ManagedPreferencesPolicy {
  readonly raw: Record<string, unknown> | null;
  readonly problems: readonly string[];
}

/** Keys the profile machinery itself uses (PayloadUUID, …), never policy keys. */
const isProfileKey = (key: string): boolean => key.startsWith('Payload');

export function managedPreferencesToPolicy(json: string): ManagedPreferencesPolicy {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch (error) {
    return { raw: null, problems: [`plutil's output is not JSON: ${error instanceof Error ? error.message : String(error)}`] };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { raw: null, problems: ['the preferences are not a dictionary'] };
  const raw: Record<string, unknown> = { version: POLICY_VERSION };
  for (const [key, value] of Object.entries(parsed)) if (!isProfileKey(key)) raw[key] = value;
  // Days: a plist cannot say null ("keep"), so 0, which is not a valid number of days, says it.
  for (const key of POLICY_LAYOUT) {
    if (key.leaf.kind !== 'integer' || !key.leaf.zeroIsNull) continue;
    const group = raw[key.path[0]!];
    if (key.path.length === 2 && typeof group === 'object' && group !== null && (group as Record<string, unknown>)[key.path[1]!] === 0) {
      (group as Record<string, unknown>)[key.path[1]!] = null;
    }
  }
  return { raw, problems: [] };
}
