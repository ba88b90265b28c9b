import { describe, expect, it } from 'vitest';
import { grammarSchema, toolArgumentsSchema, UnsupportedSchemaError } from './grammar-schema.ts';

const ANY = grammarSchema(true);

describe('grammarSchema', () => {
  it('keeps what the grammar enforces and drops annotations', () => {
    expect(
      grammarSchema({
        $schema: 'https://json-schema.org/draft/2020-12/schema',
        title: 'Weather',
        description: 'A forecast',
        type: 'object',
        properties: {
          city: { type: 'string', minLength: 1, maxLength: 20, examples: ['Madrid'] },
          day: { type: 'string', format: 'date' },
          unit: { enum: ['c', 'f'], default: 'c' },
          tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        },
        required: ['city'],
        additionalProperties: false,
      }),
    ).toEqual({
      type: 'object',
      properties: {
        city: { type: 'string', minLength: 1, maxLength: 20 },
        day: { type: 'string', format: 'date' },
        unit: { enum: ['c', 'f'] },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
      },
      additionalProperties: false,
    });
  });

  it('translates what node-llama-cpp would misread: empty schemas, anyOf, lists of types, nullable, definitions', () => {
    // An empty schema is any value (node-llama-cpp alone would read it as null).
    expect(grammarSchema({})).toEqual(ANY);
    expect(grammarSchema({ description: 'anything' })).toEqual(ANY);
    expect(grammarSchema({ anyOf: [{ type: 'string' }, { type: 'null' }] })).toEqual({ oneOf: [{ type: 'string' }, { type: 'null' }] });
    // node-llama-cpp reads a list of types as scalars only: objects and lists get an option each.
    expect(grammarSchema({ type: ['object', 'null'], properties: { a: { type: 'boolean' } } })).toEqual({
      oneOf: [{ type: 'object', properties: { a: { type: 'boolean' } } }, { type: 'null' }],
    });
    expect(grammarSchema({ type: ['string', 'string'] })).toEqual({ type: 'string' });
    expect(grammarSchema({ type: 'integer', nullable: true })).toEqual({ oneOf: [{ type: 'integer' }, { type: 'null' }] });
    expect(grammarSchema({ definitions: { Point: { type: 'number' } }, type: 'object', properties: { p: { $ref: '#/definitions/Point' } } })).toEqual({
      type: 'object',
      properties: { p: { $ref: '#/$defs/Point' } },
      $defs: { Point: { type: 'number' } },
    });
    // Keywords of another type do not apply (JSON Schema ignores them as well); formats other than dates are annotations.
    expect(grammarSchema({ type: 'string', maxItems: 3, format: 'email' })).toEqual({ type: 'string' });
    // Constraints without a type apply to their kind of value.
    expect(grammarSchema({ properties: { a: { const: 1 } } })).toEqual({ type: 'object', properties: { a: { const: 1 } } });
    // items: false means nothing past the prefix items.
    expect(grammarSchema({ type: 'array', prefixItems: [{ type: 'boolean' }], items: false })).toEqual({
      type: 'array',
      prefixItems: [{ type: 'boolean' }],
      maxItems: 1,
    });
  });

  it('refuses what it cannot enforce, naming the keyword and where it is', () => {
    const refusal = (schema: unknown) => {
      try {
        grammarSchema(schema);
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedSchemaError);
        return (error as Error).message;
      }
      throw new Error('accepted');
    };
    expect(refusal({ type: 'object', properties: { n: { type: 'integer', minimum: 0 } } })).toBe(
      'The JSON schema cannot be enforced: "minimum" at #/properties/n.',
    );
    expect(refusal({ type: 'string', pattern: '^a+$' })).toContain('"pattern" at #');
    expect(refusal({ allOf: [{ type: 'string' }] })).toContain('"allOf"');
    expect(refusal({ $ref: 'https://example.com/schema.json' })).toContain('only "#/$defs/NAME"');
    expect(refusal({ $ref: '#/$defs/A', type: 'object' })).toContain('"$ref" next to other constraints');
    expect(refusal({ oneOf: [{ type: 'string' }], properties: {} })).toContain('"oneOf" next to other constraints');
    expect(refusal({ enum: [{ a: 1 }] })).toContain('"enum" with objects or lists');
    expect(refusal({ type: 'decimal' })).toContain('the type "decimal"');
    expect(refusal(false)).toContain('allows nothing');
    expect(refusal({ type: 'array', items: { type: 'object', properties: { x: { not: {} } } } })).toContain('"not" at #/items/properties/x');
    expect(refusal({ type: 'string', maxLength: -1 })).toContain('"maxLength" must be a non-negative integer');
  });
});

describe('toolArgumentsSchema', () => {
  it('is an empty object for a tool without parameters, and refuses parameters that are not an object', () => {
    expect(toolArgumentsSchema(null)).toEqual({ type: 'object', properties: {} });
    expect(toolArgumentsSchema({ type: 'object', properties: { q: { type: 'string' } }, required: ['q'] })).toEqual({
      type: 'object',
      properties: { q: { type: 'string' } },
    });
    expect(() => toolArgumentsSchema({ type: 'string' })).toThrow(UnsupportedSchemaError);
  });
});
