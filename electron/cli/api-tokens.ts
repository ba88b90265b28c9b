import { API_SCOPES, ApiScope, type ApiTokenInfo } from '../common/contract/api.ts';
import type { Core } from '../main/services/core.ts';
import { withCore } from './bundle-common.ts';
import { UsageError, type Command, type CommandValues } from './command.ts';
import { EXIT } from './exit-codes.ts';
import { table } from './knowledge-common.ts';
import type { Output } from './output.ts';

// `soberana api tokens create | list | revoke`: the local API's tokens, through the same
// service (and so the same policy, gate and audit log) as the Settings screen. The command
// has two words, as every command does; create, list and revoke are its first argument.

const DAY_MS = 86_400_000;

/** Options declared `multiple` (--scope, --collection): parseArgs gives an array, which CommandValues does not type. */
function many(values: CommandValues, name: string): string[] {
  const raw: unknown = values[name];
  const list = Array.isArray(raw) ? (raw as unknown[]) : raw === undefined ? [] : [raw];
  return list
    .filter((item): item is string => typeof item === 'string')
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function scopesOf(values: CommandValues): ApiScope[] {
  const scopes = many(values, 'scope');
  if (scopes.length === 0) throw new UsageError(`Give at least one --scope: ${API_SCOPES.join(', ')}.`);
  return [...new Set(scopes)].map((scope) => {
    const parsed = ApiScope.safeParse(scope);
    if (!parsed.success) throw new UsageError(`"${scope}" is not a scope. Scopes: ${API_SCOPES.join(', ')}.`);
    return parsed.data;
  });
}

/** --expires DATE (that day, 00:00 UTC, or an ISO date-time) or --days N from now; neither: no expiry. */
export function expiryOf(values: CommandValues, now: Date): string | null {
  const { expires, days } = values;
  if (expires !== undefined && days !== undefined) throw new UsageError('Give --expires or --days, not both.');
  if (typeof days === 'string') {
    const n = Number(days);
    if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError('--days takes a whole number of days from 1 to 3650.');
    return new Date(now.getTime() + n * DAY_MS).toISOString();
  }
  if (typeof expires === 'string') {
    const text = /^\d{4}-\d{2}-\d{2}$/.test(expires) ? `${expires}T00:00:00Z` : expires;
    const at = Date.parse(text);
    if (Number.isNaN(at)) throw new UsageError('--expires takes a date such as 2027-01-01.');
    return new Date(at).toISOString();
  }
  return null;
}

/** A collection by id or by name (as the other commands name them). */
function collectionId(core: Core, wanted: string): string {
  const collections = core.knowledge.collections();
  const found = collections.find((c) => c.id === wanted) ?? collections.find((c) => c.name.toLowerCase() === wanted.toLowerCase());
  if (found === undefined) throw new UsageError(`There is no collection "${wanted}". "soberana knowledge collections" lists them.`);
  return found.id;
}

const stateOf = (token: ApiTokenInfo, now: Date) =>
  token.revokedAt !== null ? 'revoked' : token.expiresAt !== null && Date.parse(token.expiresAt) <= now.getTime() ? 'expired' : 'active';

const day = (iso: string | null, none: string) => (iso === null ? none : iso.slice(0, 10));

function printList(output: Output, tokens: readonly ApiTokenInfo[], core: Core): void {
  if (output.json) return output.out(JSON.stringify(tokens, null, 2));
  if (tokens.length === 0) return output.out('There are no API tokens. Create one with "soberana api tokens create --name NAME --scope chat".');
  const names = new Map(core.knowledge.collections().map((c) => [c.id, c.name]));
  const now = new Date();
  table(
    output,
    ['ID', 'NAME', 'STATE', 'SCOPES', 'COLLECTIONS', 'CREATED', 'EXPIRES', 'LAST USED', 'PREFIX'],
    tokens.map((token) => [
      token.id,
      token.name,
      stateOf(token, now),
      token.scopes.join(','),
      token.collections === null ? 'all' : token.collections.map((id) => names.get(id) ?? id).join(',') || 'none',
      day(token.createdAt, '-'),
      day(token.expiresAt, 'never'),
      day(token.lastUsedAt, 'never'),
      `${token.prefix}…`,
    ]),
  );
}

export const apiTokens: Command = {
  summary: 'Local API tokens: create, list, revoke',
  help: `Usage: soberana api tokens create --name NAME --scope SCOPE [--scope SCOPE...]
                                 [--expires DATE | --days N] [--collection ID|NAME...]
       soberana api tokens list [--json]
       soberana api tokens revoke ID

Tokens let scripts and tools call the local API (OpenAI- and Ollama-compatible, on
this computer only). A token is shown once, when it is created: only its hash is kept.
"create" prints the token alone on standard output, so TOKEN=$(soberana api tokens
create ...) keeps it; the notice goes to standard error.

Options of create:
  --name NAME          What the token is for; the audit log records requests by it.
  --scope SCOPE        ${API_SCOPES.join(', ')} (repeat, or separate with commas).
                       The machine's policy may allow fewer.
  --expires DATE       The day it stops working (2027-01-01), or an ISO date-time.
  --days N             It stops working N days from now. Default: it does not expire.
  --collection C       Limit the "knowledge" scope to these collections (repeat).
                       Default: every collection.

Exit codes: 0 done, 1 refused (the policy, an unknown token), 2 bad usage.`,
  options: {
    name: { type: 'string' },
    scope: { type: 'string', multiple: true },
    expires: { type: 'string' },
    days: { type: 'string' },
    collection: { type: 'string', multiple: true },
  },
  positionals: { min: 1, max: 2 },
  async run({ dataDir, output, values, positionals }) {
    const [action, id] = positionals;
    const createOnly = ['name', 'scope', 'expires', 'days', 'collection'].filter((option) => values[option] !== undefined);
    if (action !== 'create' && createOnly.length > 0) throw new UsageError(`--${createOnly[0]} is an option of "api tokens create".`);
    if (action === 'list' || action === 'create') {
      if (id !== undefined) throw new UsageError(`Unexpected argument "${id}".`);
    } else if (action === 'revoke') {
      if (id === undefined) throw new UsageError('Give the id of the token to revoke ("soberana api tokens list" shows it).');
    } else throw new UsageError(`Unknown action "${action ?? ''}": use create, list or revoke.`);

    if (action === 'create') {
      const name = typeof values.name === 'string' ? values.name.trim() : '';
      if (name === '') throw new UsageError('Give the token a --name.');
      const scopes = scopesOf(values);
      const expiresAt = expiryOf(values, new Date());
      const wanted = many(values, 'collection');
      return withCore(dataDir, output, async (core) => {
        const collections = wanted.length === 0 ? null : wanted.map((c) => collectionId(core, c));
        const created = core.api.tokens.create({ name, scopes, expiresAt, collections });
        if (output.json) output.out(JSON.stringify(created, null, 2));
        else {
          output.out(created.token);
          output.err(
            `Created API token "${created.info.name}" (${created.info.scopes.join(', ')}${created.info.expiresAt === null ? ', no expiry' : `, expires ${day(created.info.expiresAt, '')}`}). Copy it now: it is not shown again.`,
          );
        }
        return EXIT.ok;
      });
    }
    return withCore(dataDir, output, async (core) => {
      if (action === 'list') {
        printList(output, core.api.tokens.list(), core);
        return EXIT.ok;
      }
      const revoked = core.api.tokens.revoke(id!);
      if (output.json) output.out(JSON.stringify(revoked, null, 2));
      else output.out(`Revoked API token "${revoked.name}": requests with it are refused from now on.`);
      return EXIT.ok;
    });
  },
};
