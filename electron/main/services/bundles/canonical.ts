/**
 * Canonical JSON in the spirit of RFC 8785 (JCS): object keys sorted by UTF-16 code units,
 * no whitespace, ECMAScript number and string serialisation. Signatures cover these bytes,
 * so two parties that agree on a value always agree on what was signed.
 *
 * Stricter than JSON.stringify on purpose: a value JSON.stringify would silently drop or
 * mangle (undefined, NaN, a Date, a lone surrogate, a cycle) throws instead, because a
 * signer and a verifier must never disagree about what a manifest says.
 */
export function canonicalJson(value: unknown): string {
  return write(value, new Set(), '$');
}

export class CanonicalJsonError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CanonicalJsonError';
  }
}

function write(value: unknown, ancestors: Set<object>, where: string): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new CanonicalJsonError(`${where}: ${value} is not a finite number`);
      // ECMAScript's shortest round-trip form is what JCS prescribes; -0 becomes 0.
      return JSON.stringify(value);
    case 'string':
      if (!value.isWellFormed()) throw new CanonicalJsonError(`${where}: string holds a lone surrogate`);
      return JSON.stringify(value);
    case 'object':
      break;
    default:
      throw new CanonicalJsonError(`${where}: a ${typeof value} is not a JSON value`);
  }
  const object = value as object;
  if (ancestors.has(object)) throw new CanonicalJsonError(`${where}: cycle`);
  ancestors.add(object);
  try {
    if (Array.isArray(object)) {
      const items: string[] = [];
      for (let index = 0; index < object.length; index += 1) {
        if (!Object.hasOwn(object, index)) throw new CanonicalJsonError(`${where}[${index}]: hole in array`);
        items.push(write(object[index] as unknown, ancestors, `${where}[${index}]`));
      }
      return `[${items.join(',')}]`;
    }
    const prototype = Object.getPrototypeOf(object) as unknown;
    if (prototype !== Object.prototype && prototype !== null) {
      throw new CanonicalJsonError(`${where}: only plain objects are JSON (got ${object.constructor?.name ?? 'an exotic object'})`);
    }
    if (Object.getOwnPropertySymbols(object).length > 0) throw new CanonicalJsonError(`${where}: symbol keys are not JSON`);
    // Default sort compares UTF-16 code units, which is exactly the JCS order.
    const keys = Object.keys(object).sort();
    const members = keys.map((key) => {
      if (!key.isWellFormed()) throw new CanonicalJsonError(`${where}: key holds a lone surrogate`);
      return `${JSON.stringify(key)}:${write((object as Record<string, unknown>)[key], ancestors, `${where}.${key}`)}`;
    });
    return `{${members.join(',')}}`;
  } finally {
    ancestors.delete(object);
  }
}
