import { readFileSync } from 'node:fs';
import path from 'node:path';
// @xmldom/xmldom is already installed (mammoth, a runtime dependency, and electron-builder's
// plist use it): a real XML parser, so "well-formed" is not this test's own opinion.
import { DOMParser } from '@xmldom/xmldom';
import { describe, expect, it } from 'vitest';
import { managedPreferencesToPolicy } from '../electron/main/services/policy/managed-preferences-source.ts';
import { dottedPath, MANAGED_PREFERENCES_DOMAIN, POLICY_LAYOUT, REGISTRY_ROOT } from '../electron/main/services/policy/os-layout.ts';
import { registryToPolicy } from '../electron/main/services/policy/registry-source.ts';
import { PolicyDocument } from '../electron/main/services/policy/schema.ts';
import { deployTemplates, examplePolicy } from './deploy-templates.ts';

const root = path.resolve(import.meta.dirname, '..');

/** The part of the DOM this test reads (the project's TypeScript has no DOM library). */
interface Element {
  readonly localName: string;
  readonly nodeType: number;
  readonly textContent: string;
  readonly childNodes: ArrayLike<unknown>;
  getAttribute(name: string): string | null;
  getElementsByTagName(name: string): ArrayLike<Element>;
}

/** Parses XML, failing on anything the parser reports (xmldom reports an unclosed tag as a mere warning). */
function parseXml(text: string): Element {
  const messages: string[] = [];
  const report = (message: string) => messages.push(message);
  const doc = new DOMParser({ errorHandler: { warning: report, error: report, fatalError: report } }).parseFromString(text, 'text/xml');
  expect(messages).toEqual([]);
  return doc.documentElement as unknown as Element;
}

const children = (element: Element, name?: string): Element[] =>
  (Array.from(element.childNodes) as Element[]).filter((node) => node.nodeType === 1 && (name === undefined || node.localName === name));
const child = (element: Element, name: string): Element => {
  const found = children(element, name);
  expect(found, `<${element.localName}> has one <${name}>`).toHaveLength(1);
  return found[0]!;
};
const all = (element: Element, name: string): Element[] => Array.from(element.getElementsByTagName(name));

const committed = (relative: string) => readFileSync(path.join(root, relative), 'utf8');
const templates = deployTemplates();
const admx = parseXml(committed('deploy/windows/soberana.admx'));
const adml = parseXml(committed('deploy/windows/en-US/soberana.adml'));

describe('deploy templates', () => {
  it.each([...templates.keys()])('%s is what the generator writes, byte for byte (run node scripts/gen-deploy-templates.ts)', (relative) => {
    expect(committed(relative)).toBe(templates.get(relative));
  });

  it('the example policy has every key of the schema and is valid', () => {
    const example = examplePolicy();
    expect(Object.keys(example).sort()).toEqual(
      Object.keys(PolicyDocument.shape)
        .filter((key) => key !== '$schema')
        .sort(),
    );
    expect(PolicyDocument.safeParse(example).success).toBe(true);
  });
});

describe('ADMX and ADML', () => {
  const policies = all(admx, 'policy');

  it('define one machine policy per key of the schema, at the registry value the parser reads', () => {
    expect(policies.map((policy) => policy.getAttribute('class'))).toEqual(POLICY_LAYOUT.map(() => 'Machine'));
    const where = policies.map((policy) => {
      const element = children(policy, 'elements')[0];
      const valueName = element === undefined ? policy.getAttribute('valueName') : children(element)[0]!.getAttribute('valueName');
      return `${policy.getAttribute('key')}\\${valueName}`;
    });
    expect(where).toEqual(POLICY_LAYOUT.map((key) => ['SOFTWARE\\Policies\\Soberana', key.subkey, key.valueName].filter((part) => part !== '').join('\\')));
  });

  it('every string and presentation the ADMX names is in the ADML, and every category exists', () => {
    const text = committed('deploy/windows/soberana.admx');
    const stringIds = new Set(all(adml, 'string').map((element) => element.getAttribute('id')));
    const presentationIds = new Set(all(adml, 'presentation').map((element) => element.getAttribute('id')));
    for (const [, id] of text.matchAll(/\$\(string\.([^)]+)\)/g)) expect(stringIds, id).toContain(id);
    for (const [, id] of text.matchAll(/\$\(presentation\.([^)]+)\)/g)) expect(presentationIds, id).toContain(id);
    const categories = new Set(all(admx, 'category').map((element) => element.getAttribute('name')));
    for (const ref of all(admx, 'parentCategory')) expect(categories).toContain(ref.getAttribute('ref'));
    // Each presentation's controls point at an element of its policy.
    for (const presentation of all(adml, 'presentation')) {
      const policy = policies.find((candidate) => candidate.getAttribute('name') === presentation.getAttribute('id'))!;
      const ids = children(child(policy, 'elements')).map((element) => element.getAttribute('id'));
      for (const control of children(presentation)) expect(ids).toContain(control.getAttribute('refId'));
    }
  });

  // What Group Policy writes when every policy is enabled with the example's values, as
  // reg.exe would list it, built from the ADMX's own definitions: it must parse back to the
  // example. A wrong key, value name or type in the ADMX breaks this.
  it('round trip: a registry export built from the ADMX parses back to the same policy', () => {
    const example = examplePolicy();
    const valueAt = (keyPath: readonly string[]): unknown => keyPath.reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], example);
    const bySubkey = new Map<string, string[]>();
    for (const policy of policies) {
      const key = policy.getAttribute('key')!;
      const elements = children(policy, 'elements')[0];
      const element = elements === undefined ? null : children(elements)[0]!;
      const valueName = element === null ? policy.getAttribute('valueName')! : element.getAttribute('valueName')!;
      const layout = POLICY_LAYOUT.find(
        (candidate) =>
          `${candidate.subkey}\\${candidate.valueName}`.toLowerCase() === `${key.replace(/^SOFTWARE\\Policies\\Soberana\\?/, '')}\\${valueName}`.toLowerCase(),
      )!;
      const value = valueAt(layout.path);
      let line: string;
      if (element === null) {
        // An on/off policy: enabledValue or disabledValue, each a decimal.
        const chosen = child(policy, value === true ? 'enabledValue' : 'disabledValue');
        line = `REG_DWORD    0x${Number(child(chosen, 'decimal').getAttribute('value')).toString(16)}`;
      } else if (element.localName === 'decimal') {
        const number = value === null ? 0 : (value as number);
        expect(number).toBeGreaterThanOrEqual(Number(element.getAttribute('minValue')));
        expect(number).toBeLessThanOrEqual(Number(element.getAttribute('maxValue')));
        line = `REG_DWORD    0x${number.toString(16)}`;
      } else if (element.localName === 'enum') {
        const item = all(element, 'item').find((candidate) => child(child(candidate, 'value'), 'string').textContent === value);
        expect(item, `${dottedPath(layout)}: the enum offers ${String(value)}`).toBeDefined();
        line = `REG_SZ    ${String(value)}`;
      } else if (element.localName === 'multiText') {
        line = `REG_MULTI_SZ    ${(value as string[]).join('\\0')}`;
      } else {
        expect(element.localName).toBe('text');
        line = `REG_SZ    ${typeof value === 'string' ? value : JSON.stringify(value)}`;
      }
      const subkey = key.slice('SOFTWARE\\Policies\\Soberana'.length);
      bySubkey.set(subkey, [...(bySubkey.get(subkey) ?? []), `    ${valueName}    ${line}`]);
    }
    const listing = [...bySubkey].flatMap(([subkey, lines]) => ['', `${REGISTRY_ROOT}${subkey}`, ...lines]).join('\r\n');
    const { raw, problems } = registryToPolicy(`${listing}\r\n`);
    expect(problems).toEqual([]);
    expect(PolicyDocument.parse(raw)).toEqual(example);
  });
});

/** A plist value as plain JSON: dict, array, string, integer, true, false (all a profile needs). */
function plistToJson(element: Element): unknown {
  switch (element.localName) {
    case 'dict': {
      const items = children(element);
      const result: Record<string, unknown> = {};
      for (let index = 0; index < items.length; index += 2) {
        expect(items[index]!.localName).toBe('key');
        result[items[index]!.textContent] = plistToJson(items[index + 1]!);
      }
      return result;
    }
    case 'array':
      return children(element).map(plistToJson);
    case 'string':
      return element.textContent;
    case 'integer':
      return Number(element.textContent);
    case 'true':
      return true;
    case 'false':
      return false;
    default:
      throw new Error(`unexpected plist element <${element.localName}>`);
  }
}

describe('mobileconfig', () => {
  const plist = parseXml(committed('deploy/macos/org.soberana.app.mobileconfig'));
  const profile = plistToJson(child(plist, 'dict')) as Record<string, unknown>;
  const payloads = profile.PayloadContent as Record<string, unknown>[];

  it('is a system configuration profile with one payload of type org.soberana.app', () => {
    expect(profile).toMatchObject({ PayloadType: 'Configuration', PayloadScope: 'System', PayloadVersion: 1 });
    expect(payloads).toHaveLength(1);
    expect(payloads[0]).toMatchObject({ PayloadType: MANAGED_PREFERENCES_DOMAIN, PayloadVersion: 1 });
    for (const uuid of [profile.PayloadUUID, payloads[0]!.PayloadUUID]) expect(uuid).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
  });

  it('its payload keys are the schema keys, and read as managed preferences they are the example policy', () => {
    const payload = payloads[0]!;
    expect(
      Object.keys(payload)
        .filter((key) => !key.startsWith('Payload'))
        .sort(),
    ).toEqual(
      Object.keys(PolicyDocument.shape)
        .filter((key) => key !== '$schema')
        .sort(),
    );
    // What plutil -convert json prints of the managed preferences file the profile installs.
    const { raw, problems } = managedPreferencesToPolicy(JSON.stringify(payload));
    expect(problems).toEqual([]);
    expect(PolicyDocument.parse(raw)).toEqual(examplePolicy());
  });
});
