import { POLICY_LAYOUT, REGISTRY_ROOT, type LayoutKey } from './os-layout.ts';
import { POLICY_VERSION } from './schema.ts';

// The policy as Group Policy writes it under HKLM\SOFTWARE\Policies\Soberana, from the text
// `reg.exe query HKLM\SOFTWARE\Policies\Soberana /s` prints (layout: os-layout.ts). Pure: the
// caller runs reg.exe. The result is a raw policy document for the schema to check, so a
// value that is wrong for the schema is reported exactly as it would be in the file.

export interface RegistryValue {
  /** Path below the root key, '' for the root itself: 'Bundles'. */
  readonly subkey: string;
  readonly name: string;
  readonly type: string;
  /** As reg.exe printed it (REG_MULTI_SZ items are joined by the two characters `\0`). */
  readonly data: string;
}

export interface RegistryListing {
  readonly values: readonly RegistryValue[];
  readonly problems: readonly string[];
}

// reg.exe indents values by four spaces and separates name, type and data by four spaces;
// an empty value has nothing after its type. Names may contain single spaces.
const VALUE_LINE = /^ {4}(.+?) {4}(REG_[A-Z_]+)(?: {4}(.*))?$/;

/** The values in reg.exe's listing of the root key and its subkeys. */
export function parseRegQuery(text: string): RegistryListing {
  const values: RegistryValue[] = [];
  const problems: string[] = [];
  const root = REGISTRY_ROOT.toLowerCase();
  let subkey: string | null = null;
  text.split(/\r?\n/).forEach((line, index) => {
    if (line.trim() === '') return;
    if (!line.startsWith(' ')) {
      const lower = line.trimEnd().toLowerCase();
      if (lower === root) subkey = '';
      else if (lower.startsWith(`${root}\\`)) subkey = line.trimEnd().slice(REGISTRY_ROOT.length + 1);
      else problems.push(`line ${index + 1}: a key outside ${REGISTRY_ROOT}: ${line.trim()}`);
      return;
    }
    const match = VALUE_LINE.exec(line);
    if (match === null || subkey === null) {
      problems.push(`line ${index + 1}: not a registry value as reg.exe prints one: ${line.trim()}`);
      return;
    }
    values.push({ subkey, name: match[1]!, type: match[2]!, data: match[3] ?? '' });
  });
  return { values, problems };
}

/** Below the root key, which the caller names: 'Bundles\\AllowPolicyUpdates'. */
const where = (value: RegistryValue): string => [value.subkey, value.name].filter((part) => part !== '').join('\\');

function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) node = (node[key] ??= {}) as Record<string, unknown>;
  node[path[path.length - 1]!] = value;
}

type Decoded = { readonly ok: true; readonly value: unknown } | { readonly ok: false; readonly problem: string };

function decode(key: LayoutKey, value: RegistryValue): Decoded {
  const expect = (type: string): Decoded | null => (value.type === type ? null : { ok: false, problem: `must be ${type}, found ${value.type}` });
  const dword = (): Decoded => {
    const wrong = value.type === 'REG_QWORD' ? null : expect('REG_DWORD');
    if (wrong !== null) return wrong;
    if (!/^0x[0-9a-f]+$/i.test(value.data)) return { ok: false, problem: `not a number as reg.exe prints one: ${value.data}` };
    return { ok: true, value: Number.parseInt(value.data.slice(2), 16) };
  };
  switch (key.leaf.kind) {
    case 'boolean': {
      const number = dword();
      if (!number.ok) return number;
      if (number.value !== 0 && number.value !== 1) return { ok: false, problem: `must be 0 (off) or 1 (on), found ${String(number.value)}` };
      return { ok: true, value: number.value === 1 };
    }
    case 'integer': {
      const number = dword();
      if (!number.ok) return number;
      return { ok: true, value: number.value === 0 && key.leaf.zeroIsNull ? null : number.value };
    }
    case 'enum':
    case 'string':
      return expect('REG_SZ') ?? { ok: true, value: value.data };
    case 'list':
      // Group Policy's multi-line box leaves empty lines; they mean nothing in any list here.
      return expect('REG_MULTI_SZ') ?? { ok: true, value: value.data.split('\\0').filter((item) => item.trim() !== '') };
    case 'json': {
      const wrong = expect('REG_SZ');
      if (wrong !== null) return wrong;
      try {
        return { ok: true, value: JSON.parse(value.data) as unknown };
      } catch (error) {
        return { ok: false, problem: `must be JSON: ${error instanceof Error ? error.message : String(error)}` };
      }
    }
  }
}

export interface RegistryPolicy {
  /** The policy document the values spell, for the schema to check; null when a value could not be read. */
  readonly raw: Record<string, unknown> | null;
  /** Problems with the values themselves (type, unknown name), each naming the value. */
  readonly problems: readonly string[];
}

/** reg.exe's listing as a raw policy document. `version` defaults to 1: Group Policy need not set it. */
export function registryToPolicy(text: string): RegistryPolicy {
  const listing = parseRegQuery(text);
  const problems = [...listing.problems];
  const byName = new Map(POLICY_LAYOUT.map((key) => [`${key.subkey}\\${key.valueName}`.toLowerCase(), key]));
  const raw: Record<string, unknown> = { version: POLICY_VERSION };
  for (const value of listing.values) {
    const key = byName.get(`${value.subkey}\\${value.name}`.toLowerCase());
    if (key === undefined) {
      const known = POLICY_LAYOUT.filter((candidate) => candidate.subkey.toLowerCase() === value.subkey.toLowerCase()).map((candidate) => candidate.valueName);
      problems.push(`${where(value)}: unknown value${known.length > 0 ? ` (known here: ${known.join(', ')})` : ' (no policy is stored under this key)'}`);
      continue;
    }
    const decoded = decode(key, value);
    if (decoded.ok) setPath(raw, key.path, decoded.value);
    else problems.push(`${where(value)}: ${decoded.problem}`);
  }
  return { raw: problems.length > 0 ? null : raw, problems };
}
