import { describe, expect, it } from 'vitest';
import { addressUrl, assertLoopbackBind, bearerToken, checkOrigin, corsHeaders, isAllowedHost } from './security.ts';

describe('assertLoopbackBind', () => {
  it('accepts the two loopback literals', () => {
    expect(() => assertLoopbackBind('127.0.0.1')).not.toThrow();
    expect(() => assertLoopbackBind('::1')).not.toThrow();
  });

  it.each(['0.0.0.0', '::', '', '192.168.1.10', '10.0.0.1', 'localhost', '127.0.0.2', '::ffff:127.0.0.1', 'example.com', ' 127.0.0.1'])(
    'refuses %j',
    (host) => {
      expect(() => assertLoopbackBind(host)).toThrow(/only on 127\.0\.0\.1 and ::1/);
    },
  );
});

describe('isAllowedHost', () => {
  it('accepts loopback names with the listening port', () => {
    expect(isAllowedHost('127.0.0.1:11435', 11435)).toBe(true);
    expect(isAllowedHost('[::1]:11435', 11435)).toBe(true);
    expect(isAllowedHost('localhost:11435', 11435)).toBe(true);
    expect(isAllowedHost('LocalHost:11435', 11435)).toBe(true);
  });

  it('refuses rebinding names, other ports, a missing port and a missing header', () => {
    expect(isAllowedHost('evil.example:11435', 11435)).toBe(false);
    expect(isAllowedHost('localhost.evil.example:11435', 11435)).toBe(false);
    expect(isAllowedHost('127.0.0.1:11434', 11435)).toBe(false);
    expect(isAllowedHost('127.0.0.1', 11435)).toBe(false);
    expect(isAllowedHost('localhost', 11435)).toBe(false);
    expect(isAllowedHost(undefined, 11435)).toBe(false);
    expect(isAllowedHost('', 11435)).toBe(false);
  });
});

describe('checkOrigin', () => {
  it('lets requests without an Origin through', () => {
    expect(checkOrigin(undefined, [])).toEqual({ kind: 'none' });
  });

  it('refuses every origin by default, and "null"', () => {
    expect(checkOrigin('http://evil.example', [])).toEqual({ kind: 'refused', origin: 'http://evil.example' });
    expect(checkOrigin('null', ['http://localhost:3000'])).toMatchObject({ kind: 'refused' });
  });

  it('allows a listed origin, ignoring case and a trailing slash, and nothing more', () => {
    expect(checkOrigin('http://localhost:3000', ['http://LOCALHOST:3000/'])).toEqual({ kind: 'allowed', origin: 'http://localhost:3000' });
    expect(checkOrigin('http://localhost:3001', ['http://localhost:3000'])).toMatchObject({ kind: 'refused' });
    expect(checkOrigin('https://localhost:3000', ['http://localhost:3000'])).toMatchObject({ kind: 'refused' });
  });
});

describe('corsHeaders', () => {
  it('names the one origin and never allows credentials', () => {
    const headers = corsHeaders('http://localhost:3000');
    expect(headers['Access-Control-Allow-Origin']).toBe('http://localhost:3000');
    expect(Object.keys(headers)).not.toContain('Access-Control-Allow-Credentials');
  });

  it('echoes valid requested header names on a preflight, and falls back for junk', () => {
    expect(corsHeaders('http://a', 'authorization, content-type, x-stainless-os')['Access-Control-Allow-Headers']).toBe(
      'authorization, content-type, x-stainless-os',
    );
    expect(corsHeaders('http://a', 'bad header\r\nx: y')['Access-Control-Allow-Headers']).toBe('Authorization, Content-Type');
  });
});

describe('bearerToken and addressUrl', () => {
  it('reads only the Bearer scheme', () => {
    expect(bearerToken('Bearer sob_abc')).toBe('sob_abc');
    expect(bearerToken('bearer   sob_abc ')).toBe('sob_abc');
    expect(bearerToken('Basic dXNlcjpwYXNz')).toBeNull();
    expect(bearerToken('Bearer')).toBeNull();
    expect(bearerToken('Bearer a b')).toBeNull();
    expect(bearerToken(undefined)).toBeNull();
  });

  it('brackets IPv6 in URLs', () => {
    expect(addressUrl('127.0.0.1', 11435)).toBe('http://127.0.0.1:11435');
    expect(addressUrl('::1', 11435)).toBe('http://[::1]:11435');
  });
});
