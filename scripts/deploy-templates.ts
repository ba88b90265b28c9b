import { createHash } from 'node:crypto';
import { dottedPath, MANAGED_PREFERENCES_DOMAIN, POLICY_LAYOUT, type LayoutKey } from '../electron/main/services/policy/os-layout.ts';
import { PolicyDocument } from '../electron/main/services/policy/schema.ts';

// Group Policy templates (ADMX + en-US ADML) and an example MDM profile, built from the
// policy schema through the same layout the registry and managed-preferences parsers read
// (os-layout.ts). A schema key without an entry in TEXT or EXAMPLE stops the generator, so a
// new rule cannot ship without its template. Output is deterministic: the test regenerates
// it and compares it byte for byte with the committed files.

interface KeyText {
  /** The policy's name in the Group Policy editor. */
  readonly name: string;
  readonly help: string;
  /** The label next to the value box (not for on/off rules). */
  readonly label?: string;
}

const MANAGED =
  'Not configured: no opinion, the next source (the machine policy file, then the user file) decides. A later source can only tighten what is set here.';

const TEXT: Readonly<Record<string, KeyText>> = {
  version: {
    name: 'Policy format version',
    label: 'Version (must be 1):',
    help: 'The policy format version; only 1 exists. Optional: the registry policy is read as version 1 when it is not set.',
  },
  description: {
    name: 'Description of this policy',
    label: 'Description:',
    help: 'Shown to users with the policy (for example "Managed by the Records Office IT team"). At most 500 characters.',
  },
  contact: {
    name: 'Who to contact',
    label: 'Contact:',
    help: 'Shown next to every locked setting ("Managed by your organization’s policy. Contact: …"). At most 200 characters.',
  },
  settings: {
    name: 'Locked settings (JSON)',
    label: 'Settings as JSON:',
    help: 'A JSON object with any part of the app’s settings, for example {"theme":"dark","runtime":{"threads":4}}. Each value given is locked: the app uses it and the Settings screen shows it disabled. See docs/policy.md, "Locked settings".',
  },
  'bundles.trustedKeys': {
    name: 'Keys trusted to sign bundles (JSON)',
    label: 'Trusted keys as JSON:',
    help: 'A JSON list of {"id"?, "name", "publicKey"}; publicKey is a raw Ed25519 public key, 32 bytes in standard base64 (44 characters ending in "="). Only these keys are trusted to sign bundles; [] trusts none. At most 64 keys.',
  },
  'bundles.signatureThreshold': {
    name: 'Signatures a bundle needs',
    label: 'Signatures from distinct trusted keys:',
    help: 'How many signatures from distinct trusted keys a bundle needs (1 to 64).',
  },
  'bundles.allowPolicyUpdates': {
    name: 'Allow policy updates from signed bundles',
    help: 'Enabled: a policy in a bundle signed by the trusted keys may replace the machine policy file (never this registry policy, which it can only tighten). Disabled: it may not.',
  },
  'bundles.expiryGraceDays': {
    name: 'Days an expired bundle is still accepted',
    label: 'Grace days (0 to 36500):',
    help: 'Days after its expiry date that a bundle is still accepted. 0: none.',
  },
  'models.allowedHashes': {
    name: 'Models allowed (SHA-256)',
    label: 'One SHA-256 per line:',
    help: 'Only model files with one of these SHA-256 hashes (64 hex characters, one per line) may be used. Enabled with no line: no model is allowed.',
  },
  'models.allowUnsigned': {
    name: 'Allow models no signed bundle vouches for',
    help: 'Enabled: any model file may be imported. Disabled: only models that come in a bundle signed by a trusted key.',
  },
  'documents.allowIngestion': {
    name: 'Allow adding documents to collections',
    help: 'Enabled: users may add documents to collections. Disabled: they may not.',
  },
  'pii.ingestion': {
    name: 'Personal data in documents being ingested',
    label: 'Action:',
    help: 'What to do when personal data is found in a document being ingested: off, warn, redact or block.',
  },
  'pii.prompts': {
    name: 'Personal data in prompts',
    label: 'Action:',
    help: 'What to do when personal data is found in a prompt: off, warn, redact or block.',
  },
  'audit.level': { name: 'Audit level', label: 'Level:', help: 'off: no audit records; metadata: who did what and when; full: metadata and content.' },
  'retention.conversationDays': {
    name: 'Keep conversations for (days)',
    label: 'Days (0 keeps them until deleted):',
    help: 'Conversations older than this are deleted. 0: kept until the user deletes them.',
  },
  'retention.auditDays': {
    name: 'Keep audit records for (days)',
    label: 'Days (0 keeps them forever):',
    help: 'Audit records older than this are purged. 0: kept forever.',
  },
  'export.allowed': {
    name: 'Allow exporting conversations and documents',
    help: 'Enabled: users may export conversations and documents. Disabled: they may not.',
  },
  'storage.allowDataDirOverride': {
    name: 'Follow SOBERANA_DATA_DIR',
    help: 'Enabled: the installed app uses the data folder named by the SOBERANA_DATA_DIR environment variable. Disabled: it always uses the platform’s data folder.',
  },
  'runtime.allowedBackends': {
    name: 'Inference backends allowed',
    label: 'One backend per line:',
    help: 'Only these inference backends may be used, one per line (cpu, cuda, vulkan, metal). The CPU always remains as the fallback.',
  },
  'api.allowed': {
    name: 'Allow the local API',
    help: 'Enabled: users may turn on the local API (OpenAI- and Ollama-compatible, loopback only, tokens required) in Settings or with "soberana serve". Disabled: it never listens and no API token can be made.',
  },
  'api.scopes': {
    name: 'Local API scopes allowed',
    label: 'One scope per line:',
    help: 'Only these scopes may be used by API tokens, one per line (chat, embeddings, knowledge, models:read). Enabled with no line: tokens can do nothing.',
  },
  'packs.onCheckFailure': {
    name: 'When a knowledge pack fails its checks',
    label: 'Action:',
    help: 'What a failed acceptance check of a knowledge pack does: warn (the Bundles screen lists the failures; the collection stays in use) or disable (the collection is kept out of search and chat until a rerun of its checks passes).',
  },
  'markings.levels': {
    name: 'Classification levels',
    label: 'Levels as JSON:',
    help: 'The classification levels, lowest first, as JSON: [{"id": "PUBLIC", "names": {"en": "Public", "es": "Público"}, "colour": "#2e7d32", "textColour": "#ffffff"}, …]. 2 to 16 levels; ids are upper case (A-Z, 0-9, _). Setting the levels turns markings on: Maximum level and Default level are then required. See docs/markings.md.',
  },
  'markings.compartments': {
    name: 'Classification compartments',
    label: 'Compartments as JSON:',
    help: 'Compartments or caveats a marking may add to its level, as JSON: [{"id": "FINANCE", "names": {"en": "Finance", "es": "Finanzas"}}, …]. Up to 32. Only with the levels.',
  },
  'markings.maxLevel': {
    name: 'Highest level this machine may hold',
    label: 'Level id:',
    help: 'System high: no passage marked above this level is ever retrieved, shown or given to a model, and the banner at the top and bottom of every window shows it. A later source may only lower it.',
  },
  'markings.defaultLevel': {
    name: 'Level of new material',
    label: 'Level id:',
    help: 'The level of collections and documents nothing else marks. At or below the highest level. Only with the levels.',
  },
  'markings.grantedCompartments': {
    name: 'Compartments this machine may hold',
    label: 'One compartment id per line:',
    help: 'Only material in these compartments is retrieved. Not configured: every listed compartment. A later source may only remove compartments.',
  },
  'markings.separated': {
    name: 'Compartments kept apart',
    label: 'Pairs as JSON:',
    help: 'Pairs of compartments that may not be mixed in one conversation or API request, as JSON: [["FINANCE", "LEGAL"]]. A question that would mix them is refused. A later source may add pairs.',
  },
  'markings.allowLowering': {
    name: 'Allow lowering a marking',
    help: 'Enabled: the app may lower a collection’s or a document’s marking (recorded in the audit log as marking.changed, lowered). Disabled or not configured: markings may only be raised.',
  },
};

const GROUP_NAMES: Readonly<Record<string, string>> = {
  Bundles: 'Signed bundles',
  Models: 'Models',
  Documents: 'Documents',
  Pii: 'Personal data',
  Audit: 'Audit',
  Retention: 'Retention',
  Export: 'Export',
  Storage: 'Storage',
  Runtime: 'Inference runtime',
  Api: 'Local API',
  Packs: 'Knowledge packs',
  Markings: 'Classification markings',
};

/** The example MDM profile's policy: every key, with values an organisation might choose. */
export const EXAMPLE: Readonly<Record<string, unknown>> = {
  version: 1,
  description: 'Managed by the Records Office IT team',
  contact: 'it-helpdesk@example.org, ext. 4321',
  settings: { theme: 'dark', runtime: { threads: 4 } },
  'bundles.trustedKeys': [{ id: 'it-2025', name: 'IT signing key 2025', publicKey: 'khds2aPiL5w9YhdEFyiRK6eBPoqnjTa3paa2SxCQ3IQ=' }],
  'bundles.signatureThreshold': 1,
  'bundles.allowPolicyUpdates': false,
  'bundles.expiryGraceDays': 7,
  'models.allowedHashes': ['0000000000000000000000000000000000000000000000000000000000000000'],
  'models.allowUnsigned': false,
  'documents.allowIngestion': true,
  'pii.ingestion': 'redact',
  'pii.prompts': 'warn',
  'audit.level': 'metadata',
  'retention.conversationDays': 90,
  'retention.auditDays': null,
  'export.allowed': false,
  'storage.allowDataDirOverride': false,
  'runtime.allowedBackends': ['cpu', 'metal'],
  'api.allowed': true,
  'api.scopes': ['chat', 'embeddings', 'models:read'],
  'packs.onCheckFailure': 'disable',
  'markings.levels': [
    { id: 'PUBLIC', names: { en: 'Public', es: 'Público' }, colour: '#2e7d32', textColour: '#ffffff' },
    { id: 'INTERNAL', names: { en: 'Internal', es: 'Interno' }, colour: '#1565c0', textColour: '#ffffff' },
    { id: 'RESTRICTED', names: { en: 'Restricted', es: 'Restringido' }, colour: '#f9a825', textColour: '#000000' },
    { id: 'SECRET', names: { en: 'Secret', es: 'Secreto' }, colour: '#c62828', textColour: '#ffffff' },
  ],
  'markings.compartments': [
    { id: 'FINANCE', names: { en: 'Finance', es: 'Finanzas' } },
    { id: 'LEGAL', names: { en: 'Legal', es: 'Jurídico' } },
  ],
  'markings.maxLevel': 'RESTRICTED',
  'markings.defaultLevel': 'INTERNAL',
  'markings.grantedCompartments': ['FINANCE', 'LEGAL'],
  'markings.separated': [['FINANCE', 'LEGAL']],
  'markings.allowLowering': false,
};

function textOf(key: LayoutKey): KeyText {
  const text = TEXT[dottedPath(key)];
  if (text === undefined) throw new Error(`scripts/deploy-templates.ts: no Group Policy text for ${dottedPath(key)}; add it to TEXT`);
  return text;
}

function exampleOf(key: LayoutKey): unknown {
  if (!Object.hasOwn(EXAMPLE, dottedPath(key))) throw new Error(`scripts/deploy-templates.ts: no example value for ${dottedPath(key)}; add it to EXAMPLE`);
  return EXAMPLE[dottedPath(key)];
}

/** The example as a policy document (null where the schema has it). */
export function examplePolicy(): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const key of POLICY_LAYOUT) {
    let node = doc;
    for (const part of key.path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[key.path[key.path.length - 1]!] = exampleOf(key);
  }
  return PolicyDocument.parse(doc) as Record<string, unknown>;
}

const escapeXml = (text: string): string => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
const policyId = (key: LayoutKey): string => (key.subkey === '' ? key.valueName : `${key.subkey}_${key.valueName}`);
const categoryId = (key: LayoutKey): string => (key.subkey === '' ? 'Soberana' : `Soberana_${key.subkey}`);
const registryKey = (key: LayoutKey): string => ['SOFTWARE\\Policies\\Soberana', key.subkey].filter((part) => part !== '').join('\\');
/** Enough for 64 trusted keys or a large settings object; a REG_SZ holds far more. */
const JSON_MAX_LENGTH = 32_000;

function admxElement(key: LayoutKey): string | null {
  const id = key.valueName;
  switch (key.leaf.kind) {
    case 'boolean':
      return null;
    case 'integer':
      return `<decimal id="${id}" valueName="${id}" minValue="${key.leaf.zeroIsNull ? 0 : key.leaf.min}" maxValue="${key.leaf.max}" />`;
    case 'enum': {
      const items = key.leaf.options
        .map((option) => `\n          <item displayName="$(string.${policyId(key)}_${option})"><value><string>${escapeXml(option)}</string></value></item>`)
        .join('');
      return `<enum id="${id}" valueName="${id}" required="true">${items}\n        </enum>`;
    }
    case 'string':
      return `<text id="${id}" valueName="${id}" maxLength="${key.leaf.maxLength ?? 1023}" required="true" />`;
    case 'list':
      return `<multiText id="${id}" valueName="${id}" maxLength="${JSON_MAX_LENGTH}" maxStrings="100000" />`;
    case 'json':
      return `<text id="${id}" valueName="${id}" maxLength="${JSON_MAX_LENGTH}" required="true" />`;
  }
}

export function buildAdmx(): string {
  const groups = [...new Set(POLICY_LAYOUT.map((key) => key.subkey).filter((subkey) => subkey !== ''))];
  const categories = [
    '    <category name="Soberana" displayName="$(string.Soberana)" />',
    ...groups.map(
      (group) => `    <category name="Soberana_${group}" displayName="$(string.Cat_${group})">\n      <parentCategory ref="Soberana" />\n    </category>`,
    ),
  ];
  const policies = POLICY_LAYOUT.map((key) => {
    const id = policyId(key);
    const element = admxElement(key);
    const head = `    <policy name="${id}" class="Machine" displayName="$(string.${id})" explainText="$(string.${id}_Help)"${element === null ? '' : ` presentation="$(presentation.${id})"`} key="${registryKey(key)}"${element === null ? ` valueName="${key.valueName}"` : ''}>`;
    const body = [`      <parentCategory ref="${categoryId(key)}" />`, '      <supportedOn ref="SUPPORTED_Soberana1" />'];
    if (element === null) body.push('      <enabledValue><decimal value="1" /></enabledValue>', '      <disabledValue><decimal value="0" /></disabledValue>');
    else body.push('      <elements>', `        ${element}`, '      </elements>');
    return [head, ...body, '    </policy>'].join('\n');
  });
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Generated by scripts/gen-deploy-templates.ts from the policy schema. Do not edit. -->',
    '<policyDefinitions xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
    '  <policyNamespaces>',
    '    <target prefix="soberana" namespace="Soberana.Policies.Soberana" />',
    '    <using prefix="windows" namespace="Microsoft.Policies.Windows" />',
    '  </policyNamespaces>',
    '  <resources minRequiredRevision="1.0" />',
    '  <supportedOn>',
    '    <definitions>',
    '      <definition name="SUPPORTED_Soberana1" displayName="$(string.SUPPORTED_Soberana1)" />',
    '    </definitions>',
    '  </supportedOn>',
    '  <categories>',
    ...categories,
    '  </categories>',
    '  <policies>',
    ...policies,
    '  </policies>',
    '</policyDefinitions>',
    '',
  ].join('\n');
}

function admlPresentation(key: LayoutKey): string | null {
  const id = policyId(key);
  const label = escapeXml(textOf(key).label ?? textOf(key).name);
  switch (key.leaf.kind) {
    case 'boolean':
      return null;
    case 'integer':
      return `      <presentation id="${id}"><decimalTextBox refId="${key.valueName}" defaultValue="${key.leaf.zeroIsNull ? 0 : key.leaf.min}">${label}</decimalTextBox></presentation>`;
    case 'enum':
      return `      <presentation id="${id}"><dropdownList refId="${key.valueName}" noSort="true">${label}</dropdownList></presentation>`;
    case 'list':
      return `      <presentation id="${id}"><multiTextBox refId="${key.valueName}">${label}</multiTextBox></presentation>`;
    case 'string':
    case 'json':
      return `      <presentation id="${id}"><textBox refId="${key.valueName}"><label>${label}</label></textBox></presentation>`;
  }
}

export function buildAdml(): string {
  const groups = [...new Set(POLICY_LAYOUT.map((key) => key.subkey).filter((subkey) => subkey !== ''))];
  const strings: [string, string][] = [
    ['Soberana', 'Soberana'],
    ['SUPPORTED_Soberana1', 'Soberana 0.1 and later'],
    ...groups.map((group): [string, string] => {
      const name = GROUP_NAMES[group];
      if (name === undefined) throw new Error(`scripts/deploy-templates.ts: no category name for ${group}; add it to GROUP_NAMES`);
      return [`Cat_${group}`, name];
    }),
  ];
  for (const key of POLICY_LAYOUT) {
    const text = textOf(key);
    strings.push([policyId(key), text.name], [`${policyId(key)}_Help`, `${text.help}\n\nRegistry: HKLM\\${registryKey(key)}\\${key.valueName}. ${MANAGED}`]);
    if (key.leaf.kind === 'enum') for (const option of key.leaf.options) strings.push([`${policyId(key)}_${option}`, option]);
  }
  const presentations = POLICY_LAYOUT.map(admlPresentation).filter((line): line is string => line !== null);
  return [
    '<?xml version="1.0" encoding="utf-8"?>',
    '<!-- Generated by scripts/gen-deploy-templates.ts from the policy schema. Do not edit. -->',
    '<policyDefinitionResources xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" revision="1.0" schemaVersion="1.0" xmlns="http://schemas.microsoft.com/GroupPolicy/2006/07/PolicyDefinitions">',
    '  <displayName>Soberana</displayName>',
    '  <description>Machine policy for Soberana (docs/policy.md).</description>',
    '  <resources>',
    '    <stringTable>',
    ...strings.map(([id, text]) => `      <string id="${id}">${escapeXml(text)}</string>`),
    '    </stringTable>',
    '    <presentationTable>',
    ...presentations,
    '    </presentationTable>',
    '  </resources>',
    '</policyDefinitionResources>',
    '',
  ].join('\n');
}

/** A UUID derived from a name, so the profile is the same at every generation. */
function stableUuid(name: string): string {
  const hex = createHash('sha256').update(name).digest('hex').toUpperCase();
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-A${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

function plistValue(value: unknown, indent: string): string {
  if (typeof value === 'boolean') return `${indent}<${String(value)}/>`;
  if (typeof value === 'number') return `${indent}<integer>${value}</integer>`;
  if (typeof value === 'string') return `${indent}<string>${escapeXml(value)}</string>`;
  if (Array.isArray(value)) return [`${indent}<array>`, ...value.map((item) => plistValue(item, `${indent}  `)), `${indent}</array>`].join('\n');
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value).flatMap(([key, child]) => [`${indent}  <key>${escapeXml(key)}</key>`, plistValue(child, `${indent}  `)]);
    return [`${indent}<dict>`, ...entries, `${indent}</dict>`].join('\n');
  }
  throw new Error(`a plist cannot hold ${String(value)}`);
}

/** The example policy as a plist can hold it: no null (0 days means "keep"; other nulls are left out). */
function plistPolicy(): Record<string, unknown> {
  const doc: Record<string, unknown> = {};
  for (const key of POLICY_LAYOUT) {
    let value = exampleOf(key);
    if (value === null) {
      if (key.leaf.kind === 'integer' && key.leaf.zeroIsNull) value = 0;
      else continue;
    }
    let node = doc;
    for (const part of key.path.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[key.path[key.path.length - 1]!] = value;
  }
  return doc;
}

export function buildMobileconfig(): string {
  const payload = {
    PayloadType: MANAGED_PREFERENCES_DOMAIN,
    PayloadIdentifier: `${MANAGED_PREFERENCES_DOMAIN}.policy`,
    PayloadUUID: stableUuid(`${MANAGED_PREFERENCES_DOMAIN}.policy`),
    PayloadVersion: 1,
    PayloadDisplayName: 'Soberana policy',
    ...plistPolicy(),
  };
  const profile = {
    PayloadContent: [payload],
    PayloadDescription:
      'Example: sets the Soberana machine policy. Edit the values, give it your own PayloadIdentifier and PayloadUUID, sign it and deploy it with your MDM.',
    PayloadDisplayName: 'Soberana policy (example)',
    PayloadIdentifier: `${MANAGED_PREFERENCES_DOMAIN}.profile`,
    PayloadOrganization: 'Example Organization',
    PayloadRemovalDisallowed: true,
    PayloadScope: 'System',
    PayloadType: 'Configuration',
    PayloadUUID: stableUuid(`${MANAGED_PREFERENCES_DOMAIN}.profile`),
    PayloadVersion: 1,
  };
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<!-- Generated by scripts/gen-deploy-templates.ts from the policy schema. Do not edit; copy and adapt. -->',
    '<plist version="1.0">',
    plistValue(profile, ''),
    '</plist>',
    '',
  ].join('\n');
}

/** Where each template goes, relative to the repository, and its text. */
export function deployTemplates(): ReadonlyMap<string, string> {
  return new Map([
    ['deploy/windows/soberana.admx', buildAdmx()],
    ['deploy/windows/en-US/soberana.adml', buildAdml()],
    ['deploy/macos/org.soberana.app.mobileconfig', buildMobileconfig()],
  ]);
}
