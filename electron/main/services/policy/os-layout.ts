import { z } from 'zod';
import { PolicyDocument } from './schema.ts';

// How each key of the policy document is stored where an OS's management tools put it: the
// Windows registry (GPO, via the ADMX) and macOS managed preferences (MDM, via a profile).
// Derived from the schema, so the parsers, the templates and the docs cannot disagree with it.
//
// Registry, under HKLM\SOFTWARE\Policies\Soberana (names are case-insensitive, as Windows'):
//   root values   Version (REG_DWORD, optional, must be 1), Description, Contact (REG_SZ),
//                 Settings (REG_SZ: the `settings` object as JSON)
//   one subkey per group (Bundles, Models, Documents, Pii, Audit, Retention, Export, Storage, Runtime),
//   one value per key, named as the key with a capital first letter:
//     boolean              REG_DWORD 0 or 1
//     integer              REG_DWORD; for a nullable number of days (min 1), 0 means null (keep)
//     one of a set (enum)  REG_SZ
//     list of strings      REG_MULTI_SZ, one item per line
//     anything else        REG_SZ holding JSON (bundles.trustedKeys)
// Managed preferences are a plist, so they hold the policy document as is, with two
// exceptions plists force: there is no null (leave the key out; for days, 0 means null) and
// `version` may be left out (it is 1).

export type LeafKind =
  | { readonly kind: 'boolean' }
  | { readonly kind: 'integer'; readonly min: number; readonly max: number; readonly zeroIsNull: boolean }
  | { readonly kind: 'enum'; readonly options: readonly string[] }
  | { readonly kind: 'string'; readonly maxLength: number | null }
  /** Strings, or names from a set (options), one item per line. */
  | { readonly kind: 'list'; readonly options: readonly string[] | null }
  | { readonly kind: 'json' };

export interface LayoutKey {
  /** The key's path in the policy document: ['bundles', 'signatureThreshold']. */
  readonly path: readonly string[];
  /** Registry subkey under the root ('' for the root key itself) and value name. */
  readonly subkey: string;
  readonly valueName: string;
  readonly leaf: LeafKind;
}

export const REGISTRY_ROOT = 'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Soberana';
export const REGISTRY_ROOT_SHORT = 'HKLM\\SOFTWARE\\Policies\\Soberana';
export const MANAGED_PREFERENCES_DOMAIN = 'org.soberana.app';
export const MANAGED_PREFERENCES_PATH = `/Library/Managed Preferences/${MANAGED_PREFERENCES_DOMAIN}.plist`;

export const capitalize = (name: string): string => name.charAt(0).toUpperCase() + name.slice(1);

function unwrap(schema: z.ZodType): { inner: z.ZodType; nullable: boolean } {
  let inner = schema;
  let nullable = false;
  for (;;) {
    if (inner instanceof z.ZodOptional) inner = inner.unwrap() as z.ZodType;
    else if (inner instanceof z.ZodNullable) {
      nullable = true;
      inner = inner.unwrap() as z.ZodType;
    } else if (inner instanceof z.ZodPipe) inner = inner.in as z.ZodType;
    else return { inner, nullable };
  }
}

function leafOf(schema: z.ZodType): LeafKind {
  const { inner, nullable } = unwrap(schema);
  if (inner instanceof z.ZodBoolean) return { kind: 'boolean' };
  if (inner instanceof z.ZodNumber) {
    const min = inner.minValue ?? 0;
    const max = inner.maxValue ?? 0xffff_ffff;
    // Registry DWORDs and plist integers have no null; 0 can stand for it only where 0 is not a value.
    return { kind: 'integer', min, max, zeroIsNull: nullable && min > 0 };
  }
  if (inner instanceof z.ZodLiteral) return { kind: 'integer', min: Number(inner.value), max: Number(inner.value), zeroIsNull: false };
  if (inner instanceof z.ZodEnum) return { kind: 'enum', options: inner.options.map(String) };
  if (inner instanceof z.ZodString) return { kind: 'string', maxLength: inner.maxLength };
  if (inner instanceof z.ZodArray) {
    const element = unwrap(inner.element as z.ZodType).inner;
    if (element instanceof z.ZodString) return { kind: 'list', options: null };
    if (element instanceof z.ZodEnum) return { kind: 'list', options: element.options.map(String) };
  }
  return { kind: 'json' };
}

function buildLayout(): LayoutKey[] {
  const keys: LayoutKey[] = [];
  for (const [name, field] of Object.entries(PolicyDocument.shape as Record<string, z.ZodType>)) {
    if (name === '$schema') continue;
    const { inner } = unwrap(field);
    // `settings` follows the app's settings, at any depth: one JSON value rather than a mirror of it.
    if (inner instanceof z.ZodObject && name !== 'settings') {
      for (const [key, child] of Object.entries(inner.shape as Record<string, z.ZodType>)) {
        keys.push({ path: [name, key], subkey: capitalize(name), valueName: capitalize(key), leaf: leafOf(child) });
      }
    } else {
      keys.push({ path: [name], subkey: '', valueName: capitalize(name), leaf: name === 'settings' ? { kind: 'json' } : leafOf(field) });
    }
  }
  return keys;
}

/** Every key of the policy document with where it is stored; the order is the schema's. */
export const POLICY_LAYOUT: readonly LayoutKey[] = buildLayout();

export const dottedPath = (key: LayoutKey): string => key.path.join('.');
