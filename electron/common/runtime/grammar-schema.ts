// JSON schemas as node-llama-cpp's grammar generator can enforce them. Replies that must
// follow a schema (the local API's `response_format`, forced tool calls) are generated under
// a grammar built from the schema, so the output follows it by construction. The generator
// understands a subset of JSON Schema and quietly treats the rest as something else (an
// unknown `$ref` as any value, `{}` as null, `type: ["object", "null"]` as null), so a
// schema is checked and rewritten here first: what the grammar can express is translated,
// what it cannot enforce is refused with a message that names it, rather than answered
// with JSON that does not follow the schema. Pure functions; the API service may call
// `grammarSchema` to refuse a request before it waits for its turn.

export class UnsupportedSchemaError extends Error {}

/** Keywords that describe without constraining: dropped. */
const ANNOTATIONS = new Set([
  'title',
  'description',
  '$schema',
  '$id',
  '$anchor',
  '$comment',
  'examples',
  'default',
  'deprecated',
  'readOnly',
  'writeOnly',
  'contentEncoding',
  'contentMediaType',
  'required',
]);

/** Constraints the grammar cannot enforce: refused. */
const UNSUPPORTED = [
  'allOf',
  'not',
  'if',
  'then',
  'else',
  'pattern',
  'patternProperties',
  'minimum',
  'maximum',
  'exclusiveMinimum',
  'exclusiveMaximum',
  'multipleOf',
  'uniqueItems',
  'contains',
  'minContains',
  'maxContains',
  'dependentRequired',
  'dependentSchemas',
  'dependencies',
  'propertyNames',
  'unevaluatedProperties',
  'unevaluatedItems',
  '$dynamicRef',
  '$recursiveRef',
];

const TYPES = new Set(['string', 'number', 'integer', 'boolean', 'null', 'object', 'array']);
const FORMATS = new Set(['date-time', 'time', 'date']);
const STRING_KEYS = ['minLength', 'maxLength'];
const OBJECT_KEYS = ['properties', 'additionalProperties', 'minProperties', 'maxProperties'];
const ARRAY_KEYS = ['items', 'prefixItems', 'minItems', 'maxItems'];

type Schema = Record<string, unknown>;

/** Any JSON value; node-llama-cpp has no schema of its own for it (an empty schema would mean null). */
const ANY_JSON: Schema = {
  oneOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'object', additionalProperties: true }, { type: 'array' }],
};

const isObject = (value: unknown): value is Schema => typeof value === 'object' && value !== null && !Array.isArray(value);
const isLiteral = (value: unknown) => value === null || ['string', 'number', 'boolean'].includes(typeof value);

function refuse(path: string, what: string): never {
  throw new UnsupportedSchemaError(`The JSON schema cannot be enforced: ${what} at ${path}.`);
}

function nonNegativeInteger(value: unknown, path: string, key: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) refuse(path, `"${key}" must be a non-negative integer`);
  return value;
}

/** The constraining keywords of a schema, with annotations and `$defs` left out. */
function constraints(schema: Schema): string[] {
  return Object.keys(schema).filter((key) => !ANNOTATIONS.has(key) && key !== '$defs' && key !== 'definitions');
}

function convert(value: unknown, path: string): Schema {
  if (value === true) return ANY_JSON;
  if (value === false) refuse(path, 'a schema that allows nothing (false)');
  if (!isObject(value)) refuse(path, 'a schema that is not an object');
  const schema = value;
  for (const key of UNSUPPORTED) if (key in schema) refuse(path, `"${key}"`);
  const defs = convertDefs(schema, path);
  const withDefs = (result: Schema): Schema => (defs === null ? result : { ...result, $defs: defs });
  const keys = constraints(schema);

  if (schema.nullable === true) {
    const { nullable: _nullable, ...rest } = schema;
    return withDefs({ oneOf: [convert({ ...rest, $defs: undefined, definitions: undefined }, path), { type: 'null' }] });
  }
  if ('nullable' in schema && schema.nullable !== false) refuse(path, '"nullable" that is not a boolean');
  const effective = keys.filter((key) => key !== 'nullable');
  if (effective.length === 0) return withDefs(ANY_JSON);

  if ('$ref' in schema) {
    if (effective.length > 1) refuse(path, '"$ref" next to other constraints');
    const ref = schema.$ref;
    if (typeof ref !== 'string') refuse(path, 'a "$ref" that is not a string');
    const match = /^#\/(?:\$defs|definitions)\/([^/]+)$/.exec(ref);
    if (match === null) refuse(path, `the reference "${ref}" (only "#/$defs/NAME" and "#/definitions/NAME" are supported)`);
    return withDefs({ $ref: `#/$defs/${match[1]!}` });
  }

  for (const union of ['oneOf', 'anyOf'] as const) {
    if (!(union in schema)) continue;
    if (effective.length > 1) refuse(path, `"${union}" next to other constraints`);
    const options = schema[union];
    if (!Array.isArray(options) || options.length === 0) refuse(path, `"${union}" that is not a list of schemas`);
    // A value the grammar generates matches at least one option: right for anyOf, and for
    // oneOf as far as a generator can tell (options that overlap are the schema's own problem).
    return withDefs({ oneOf: options.map((option, index) => convert(option, `${path}/${union}/${index}`)) });
  }

  if ('const' in schema) {
    if (!isLiteral(schema.const)) refuse(path, '"const" that is an object or a list');
    return withDefs({ const: schema.const });
  }
  if ('enum' in schema) {
    const values = schema.enum;
    if (!Array.isArray(values) || values.length === 0) refuse(path, '"enum" that is not a list of values');
    if (!values.every(isLiteral)) refuse(path, '"enum" with objects or lists');
    return withDefs({ enum: values });
  }

  const type = schema.type;
  if (type === undefined) {
    // Constraints without a type: JSON Schema applies them to values of their kind only.
    if (effective.some((key) => OBJECT_KEYS.includes(key))) return convert({ ...schema, type: 'object' }, path);
    if (effective.some((key) => ARRAY_KEYS.includes(key))) return convert({ ...schema, type: 'array' }, path);
    if (effective.some((key) => STRING_KEYS.includes(key) || key === 'format')) return convert({ ...schema, type: 'string' }, path);
    refuse(path, `the keyword(s) ${effective.map((key) => `"${key}"`).join(', ')}`);
  }
  if (Array.isArray(type)) {
    if (type.length === 0 || !type.every((item) => typeof item === 'string' && TYPES.has(item))) refuse(path, '"type" with an unknown type');
    const distinct = [...new Set(type as string[])];
    if (distinct.length === 1) return convert({ ...schema, type: distinct[0] }, path);
    // node-llama-cpp reads a list of types as scalars only; one option per type keeps objects and lists.
    return withDefs({ oneOf: distinct.map((item) => convert({ ...schema, type: item, $defs: undefined, definitions: undefined }, path)) });
  }
  if (typeof type !== 'string' || !TYPES.has(type)) refuse(path, `the type ${JSON.stringify(type)}`);
  const allowed = type === 'string' ? [...STRING_KEYS, 'format'] : type === 'object' ? OBJECT_KEYS : type === 'array' ? ARRAY_KEYS : ([] as string[]);
  const result: Schema = { type };
  for (const key of effective) {
    if (key === 'type' || key === '$defs' || key === 'definitions') continue;
    // Keywords of other types do not apply to this one (JSON Schema ignores them too).
    if (!allowed.includes(key)) {
      if ([...STRING_KEYS, 'format', ...OBJECT_KEYS, ...ARRAY_KEYS].includes(key)) continue;
      refuse(path, `"${key}"`);
    }
    const item = schema[key];
    switch (key) {
      case 'format':
        // date, time and date-time are enforced; other formats (email, uri...) are annotations in JSON Schema, left to the model.
        if (typeof item === 'string' && FORMATS.has(item)) result.format = item;
        break;
      case 'minLength':
      case 'maxLength':
      case 'minProperties':
      case 'maxProperties':
      case 'minItems':
      case 'maxItems':
        result[key] = nonNegativeInteger(item, path, key);
        break;
      case 'properties':
        if (!isObject(item)) refuse(path, '"properties" that is not an object');
        result.properties = Object.fromEntries(Object.entries(item).map(([name, sub]) => [name, convert(sub, `${path}/properties/${name}`)]));
        break;
      case 'additionalProperties':
        result.additionalProperties = typeof item === 'boolean' ? item : convert(item, `${path}/additionalProperties`);
        break;
      case 'items':
        // false: nothing after the prefix items.
        if (item === false) result.items = { enum: [] };
        else result.items = convert(item, `${path}/items`);
        break;
      case 'prefixItems':
        if (!Array.isArray(item)) refuse(path, '"prefixItems" that is not a list');
        result.prefixItems = item.map((sub, index) => convert(sub, `${path}/prefixItems/${index}`));
        break;
    }
  }
  if (isObject(result.items) && Array.isArray(result.items.enum) && result.items.enum.length === 0) {
    delete result.items;
    result.maxItems = Array.isArray(result.prefixItems) ? result.prefixItems.length : 0;
  }
  return withDefs(result);
}

function convertDefs(schema: Schema, path: string): Schema | null {
  const entries: [string, Schema][] = [];
  for (const key of ['$defs', 'definitions'] as const) {
    const defs = schema[key];
    if (defs === undefined) continue;
    if (!isObject(defs)) refuse(path, `"${key}" that is not an object`);
    for (const [name, sub] of Object.entries(defs)) entries.push([name, convert(sub, `${path}/${key}/${name}`)]);
  }
  return entries.length === 0 ? null : Object.fromEntries(entries);
}

/**
 * The schema in the form node-llama-cpp's `createGrammarForJsonSchema` enforces faithfully.
 * Throws UnsupportedSchemaError naming the first keyword it cannot enforce.
 */
export function grammarSchema(schema: unknown): Record<string, unknown> {
  return convert(schema, '#');
}

/** A tool's arguments: an object schema, or an empty object for a tool without parameters. */
export function toolArgumentsSchema(parameters: Record<string, unknown> | null): Record<string, unknown> {
  if (parameters === null) return { type: 'object', properties: {} };
  const converted = grammarSchema(parameters);
  if (converted.type !== 'object' && !('$ref' in converted)) throw new UnsupportedSchemaError('A tool’s parameters must be an object schema.');
  return converted;
}
