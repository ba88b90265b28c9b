import { RequestError } from './errors.ts';

// Reading fields of a JSON request body without a schema library (the server layer imports no
// package): each reader checks one field's type and range and names the field when it is wrong,
// as OpenAI's `param` does. Absent and null both read as "not given".

export type Json = Record<string, unknown>;

export function asObject(value: unknown, param: string | null): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RequestError(param === null ? 'The request body must be a JSON object.' : `'${param}' must be an object.`, param);
  }
  return value as Json;
}

export function optString(body: Json, key: string, param = key): string | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new RequestError(`'${param}' must be a string.`, param);
  return value;
}

export function reqString(body: Json, key: string, param = key): string {
  const value = optString(body, key, param);
  if (value === undefined) throw new RequestError(`'${param}' is required.`, param);
  return value;
}

export function optBoolean(body: Json, key: string, param = key): boolean | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw new RequestError(`'${param}' must be true or false.`, param);
  return value;
}

export function optNumber(body: Json, key: string, min: number, max: number, param = key): number | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new RequestError(`'${param}' must be a number from ${min} to ${max}.`, param);
  }
  return value;
}

export function optInteger(body: Json, key: string, min: number, max: number, param = key): number | undefined {
  const value = optNumber(body, key, min, max, param);
  if (value !== undefined && !Number.isInteger(value)) throw new RequestError(`'${param}' must be a whole number.`, param);
  return value;
}

export function optArray(body: Json, key: string, max: number, param = key): unknown[] | undefined {
  const value = body[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value)) throw new RequestError(`'${param}' must be an array.`, param);
  if (value.length > max) throw new RequestError(`'${param}' may have at most ${max} items.`, param);
  return value;
}

/** `stop`: one string or a list of up to 16 non-empty strings (the runtime's limit). */
export function stopList(value: unknown, param: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length > 16 || list.some((item) => typeof item !== 'string' || item.length > 500)) {
    throw new RequestError(`'${param}' must be a string or up to 16 strings of at most 500 characters.`, param);
  }
  return (list as string[]).filter((item) => item.length > 0);
}

/** A list of non-empty strings, such as collection ids. */
export function stringList(value: unknown, param: string, max: number): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length > max || value.some((item) => typeof item !== 'string' || item.length === 0 || item.length > 200)) {
    throw new RequestError(`'${param}' must be a list of up to ${max} ids.`, param);
  }
  return value as string[];
}

/** A field the API accepts only at its neutral value (e.g. `n` = 1): anything else is refused, not ignored. */
export function onlyNeutral(body: Json, key: string, neutral: readonly unknown[], why: string): void {
  const value = body[key];
  if (value === undefined || value === null || neutral.includes(value)) return;
  throw new RequestError(`'${key}' is not supported: ${why}`, key);
}
