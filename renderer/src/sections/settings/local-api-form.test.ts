import { describe, expect, it } from 'vitest';
import type { ApiTokenInfo } from '../../../../electron/common/contract/api.ts';
import { EMPTY_DRAFT, expiresAt, normalizeOrigin, parseConnection, parseTokenDraft, sortTokens, tokenState } from './local-api-form.ts';

const NOW = new Date('2026-12-05T10:00:00Z');

function token(patch: Partial<ApiTokenInfo>): ApiTokenInfo {
  return {
    id: 'id',
    name: 'name',
    scopes: ['chat'],
    createdAt: '2026-12-01T00:00:00Z',
    expiresAt: null,
    revokedAt: null,
    lastUsedAt: null,
    collections: null,
    prefix: 'sob_abcd',
    ...patch,
  };
}

describe('normalizeOrigin', () => {
  it('keeps scheme, host and port as a browser sends them', () => {
    expect(normalizeOrigin('http://localhost:3000')).toBe('http://localhost:3000');
    expect(normalizeOrigin(' HTTP://LocalHost:3000/ ')).toBe('http://localhost:3000');
    expect(normalizeOrigin('https://tools.example.org:443')).toBe('https://tools.example.org');
    expect(normalizeOrigin('http://[::1]:8080')).toBe('http://[::1]:8080');
  });

  it('refuses what an Origin header never is', () => {
    expect(normalizeOrigin('localhost:3000')).toBeNull();
    expect(normalizeOrigin('http://localhost:3000/app')).toBeNull();
    expect(normalizeOrigin('http://localhost:3000/?x=1')).toBeNull();
    expect(normalizeOrigin('http://user@localhost:3000')).toBeNull();
    expect(normalizeOrigin('file:///home/me/page.html')).toBeNull();
    expect(normalizeOrigin('*')).toBeNull();
    expect(normalizeOrigin('')).toBeNull();
  });
});

describe('parseConnection', () => {
  it('reads a port and one origin per line, skipping blanks and repeats', () => {
    expect(parseConnection('12000', 'http://localhost:3000\n\n http://localhost:3000/\nhttps://a.test')).toEqual({
      ok: true,
      port: 12000,
      allowedOrigins: ['http://localhost:3000', 'https://a.test'],
    });
    expect(parseConnection('11435', '')).toEqual({ ok: true, port: 11435, allowedOrigins: [] });
  });

  it('names each mistake', () => {
    const parsed = parseConnection('80', 'http://ok.test\nnot an origin');
    expect(parsed).toEqual({
      ok: false,
      errors: [
        { field: 'port', kind: 'range' },
        { field: 'origins', kind: 'origin', value: 'not an origin' },
      ],
    });
    expect(parseConnection('', '').ok).toBe(false);
    expect(parseConnection('1.5', '').ok).toBe(false);
    expect(parseConnection('65536', '').ok).toBe(false);
    const many = Array.from({ length: 33 }, (_, index) => `http://localhost:${3000 + index}`).join('\n');
    expect(parseConnection('11435', many)).toEqual({ ok: false, errors: [{ field: 'origins', kind: 'tooMany', max: 32 }] });
  });
});

describe('the new token form', () => {
  it('turns the expiry choice into a date', () => {
    expect(expiresAt({ expiry: 'never', date: '' }, NOW)).toBeNull();
    expect(expiresAt({ expiry: '30', date: '' }, NOW)).toBe('2027-01-04T10:00:00.000Z');
    expect(expiresAt({ expiry: '90', date: '' }, NOW)).toBe('2027-03-05T10:00:00.000Z');
    const onDate = expiresAt({ expiry: 'date', date: '2027-03-01' }, NOW);
    expect(onDate).toBe(new Date(2027, 2, 1, 23, 59, 59).toISOString());
    expect(expiresAt({ expiry: 'date', date: '2026-12-04' }, NOW)).toBeUndefined();
    expect(expiresAt({ expiry: 'date', date: '2027-02-30' }, NOW)).toBeUndefined();
    expect(expiresAt({ expiry: 'date', date: '' }, NOW)).toBeUndefined();
  });

  it('builds the request the contract accepts', () => {
    const parsed = parseTokenDraft({ ...EMPTY_DRAFT, name: '  Report notebook ', expiry: 'never' }, NOW);
    expect(parsed).toEqual({ ok: true, request: { name: 'Report notebook', scopes: ['chat', 'models:read'], expiresAt: null, collections: null } });
  });

  it('limits collections only with the knowledge scope', () => {
    const draft = { ...EMPTY_DRAFT, name: 'n', expiry: 'never' as const, collections: ['c1'] };
    expect(parseTokenDraft(draft, NOW)).toMatchObject({ ok: true, request: { collections: null } });
    expect(parseTokenDraft({ ...draft, scopes: ['knowledge'] }, NOW)).toMatchObject({ ok: true, request: { collections: ['c1'] } });
  });

  it('lists every mistake at once', () => {
    expect(parseTokenDraft({ name: ' ', scopes: [], expiry: 'date', date: '', collections: null }, NOW)).toEqual({
      ok: false,
      errors: ['name', 'scopes', 'date'],
    });
    expect(parseTokenDraft({ ...EMPTY_DRAFT, name: 'n', scopes: ['knowledge'], collections: [] }, NOW)).toEqual({ ok: false, errors: ['collections'] });
    expect(parseTokenDraft({ ...EMPTY_DRAFT, name: 'x'.repeat(101) }, NOW)).toEqual({ ok: false, errors: ['name'] });
  });
});

describe('tokens', () => {
  it('tell active, expired and revoked apart', () => {
    expect(tokenState(token({}), NOW)).toBe('active');
    expect(tokenState(token({ expiresAt: '2026-12-06T00:00:00Z' }), NOW)).toBe('active');
    expect(tokenState(token({ expiresAt: '2026-12-05T09:59:59Z' }), NOW)).toBe('expired');
    expect(tokenState(token({ expiresAt: '2026-12-05T09:59:59Z', revokedAt: '2026-12-02T00:00:00Z' }), NOW)).toBe('revoked');
  });

  it('list working ones first, newest first', () => {
    const sorted = sortTokens(
      [
        token({ id: 'old', createdAt: '2026-11-01T00:00:00Z' }),
        token({ id: 'revoked', createdAt: '2026-12-04T00:00:00Z', revokedAt: '2026-12-04T01:00:00Z' }),
        token({ id: 'new', createdAt: '2026-12-03T00:00:00Z' }),
      ],
      NOW,
    );
    expect(sorted.map((entry) => entry.id)).toEqual(['new', 'old', 'revoked']);
  });
});
