import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  APP_ORIGIN,
  callerFromFrame,
  contentSecurityPolicy,
  isAllowedNavigation,
  isAllowedRequest,
  isLoopbackAddress,
  isTrustedCaller,
  isWithin,
  originOf,
  resolveInside,
} from './policy.ts';

const DEV = { devServerOrigin: 'http://localhost:5173' };

/** The CSP split into `directive -> sources` so that each directive is checked whole. */
function directives(csp: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const part of csp.split(';')) {
    const [name, ...sources] = part.trim().split(/\s+/);
    if (name !== undefined && name !== '') map.set(name, sources.join(' '));
  }
  return map;
}

describe('originOf', () => {
  it('builds the origin of an app:// URL from its parts', () => {
    expect(APP_ORIGIN).toBe('app://soberana');
    expect(originOf('app://soberana/x')).toBe('app://soberana');
    expect(originOf('app://soberana/index.html?q=1#top')).toBe('app://soberana');
  });

  it('keeps the port of an http origin', () => {
    expect(originOf('http://localhost:5173/src/main.tsx')).toBe('http://localhost:5173');
  });

  it('returns null for garbage and for URLs without a host', () => {
    expect(originOf('garbage')).toBeNull();
    expect(originOf('')).toBeNull();
    expect(originOf('about:blank')).toBeNull();
    expect(originOf('data:text/html,hi')).toBeNull();
  });
});

describe('callerFromFrame', () => {
  it('records the origin and whether the frame is the main frame', () => {
    expect(callerFromFrame('app://soberana/index.html', true)).toEqual({ origin: 'app://soberana', isMainFrame: true });
    expect(callerFromFrame('app://soberana/index.html', false)).toEqual({ origin: 'app://soberana', isMainFrame: false });
  });

  it("uses 'null' when the frame URL has no origin", () => {
    expect(callerFromFrame('garbage', true)).toEqual({ origin: 'null', isMainFrame: true });
    expect(callerFromFrame('about:blank', true)).toEqual({ origin: 'null', isMainFrame: true });
  });
});

describe('isTrustedCaller', () => {
  const trusted = [APP_ORIGIN];

  it('accepts the main frame of a trusted origin', () => {
    expect(isTrustedCaller({ origin: 'app://soberana', isMainFrame: true }, trusted)).toBe(true);
  });

  it('rejects a foreign origin', () => {
    expect(isTrustedCaller({ origin: 'https://example.com', isMainFrame: true }, trusted)).toBe(false);
  });

  it('rejects a subframe of a trusted origin', () => {
    expect(isTrustedCaller({ origin: 'app://soberana', isMainFrame: false }, trusted)).toBe(false);
  });

  it("rejects the 'null' origin, even when it is listed as trusted", () => {
    expect(isTrustedCaller({ origin: 'null', isMainFrame: true }, trusted)).toBe(false);
    expect(isTrustedCaller({ origin: 'null', isMainFrame: true }, ['null'])).toBe(false);
  });

  it('matches origins exactly, not by prefix', () => {
    expect(isTrustedCaller({ origin: 'app://soberana.evil', isMainFrame: true }, trusted)).toBe(false);
    expect(isTrustedCaller({ origin: 'app://soberan', isMainFrame: true }, trusted)).toBe(false);
    expect(isTrustedCaller({ origin: 'app://soberana:1', isMainFrame: true }, trusted)).toBe(false);
  });

  it('rejects everything when nothing is trusted', () => {
    expect(isTrustedCaller({ origin: 'app://soberana', isMainFrame: true }, [])).toBe(false);
  });
});

describe('isAllowedRequest', () => {
  it('allows the app scheme on the app host only', () => {
    expect(isAllowedRequest('app://soberana/')).toBe(true);
    expect(isAllowedRequest('app://soberana/assets/index.js')).toBe(true);
    expect(isAllowedRequest('app://other/')).toBe(false);
    expect(isAllowedRequest('app://soberana.evil/')).toBe(false);
  });

  it('refuses every other scheme in production', () => {
    for (const url of [
      'https://example.com',
      'http://localhost:5173/',
      'file:///etc/passwd',
      'data:text/html,<h1>hi</h1>',
      'javascript:alert(1)',
      'devtools://devtools/bundled/inspector.html',
      'ws://localhost:5173/',
      'not a url',
    ]) {
      expect(isAllowedRequest(url), url).toBe(false);
    }
  });

  it('allows the dev server and its hot-reload socket in development', () => {
    expect(isAllowedRequest('http://localhost:5173/x', DEV)).toBe(true);
    expect(isAllowedRequest('ws://localhost:5173/', DEV)).toBe(true);
    expect(isAllowedRequest('app://soberana/', DEV)).toBe(true);
    expect(isAllowedRequest('devtools://devtools/bundled/inspector.html', DEV)).toBe(true);
  });

  it('refuses anything but the exact dev server host, port and scheme', () => {
    expect(isAllowedRequest('http://localhost:5174/', DEV)).toBe(false);
    expect(isAllowedRequest('http://localhost.evil:5173/', DEV)).toBe(false);
    expect(isAllowedRequest('https://localhost:5173', DEV)).toBe(false);
    expect(isAllowedRequest('wss://localhost:5173/', DEV)).toBe(false);
    expect(isAllowedRequest('http://127.0.0.1:5173/', DEV)).toBe(false);
    expect(isAllowedRequest('http://localhost/', DEV)).toBe(false);
    expect(isAllowedRequest('https://example.com/', DEV)).toBe(false);
    expect(isAllowedRequest('file:///etc/passwd', DEV)).toBe(false);
  });

  it('refuses everything outside app:// when the dev origin is unparseable', () => {
    expect(isAllowedRequest('http://localhost:5173/', { devServerOrigin: 'nonsense' })).toBe(false);
  });
});

describe('isAllowedNavigation', () => {
  it('refuses every navigation, even to the app itself', () => {
    expect(isAllowedNavigation('app://soberana/')).toBe(false);
    expect(isAllowedNavigation('https://example.com/')).toBe(false);
  });
});

describe('contentSecurityPolicy', () => {
  it('is strict in production', () => {
    const csp = contentSecurityPolicy();
    const map = directives(csp);
    expect(map.get('default-src')).toBe("'self'");
    expect(map.get('connect-src')).toBe("'self'");
    expect(map.get('script-src')).toBe("'self'");
    expect(map.get('style-src')).toBe("'self'");
    expect(map.get('object-src')).toBe("'none'");
    expect(map.get('frame-ancestors')).toBe("'none'");
    expect(map.get('base-uri')).toBe("'none'");
    expect(map.get('form-action')).toBe("'none'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(csp).not.toContain('localhost');
  });

  it('opens connect-src to the dev server socket in development', () => {
    const map = directives(contentSecurityPolicy(DEV));
    expect(map.get('connect-src')?.split(' ')).toEqual(["'self'", 'ws://localhost:5173']);
    expect(map.get('default-src')).toBe("'self'");
    expect(map.get('object-src')).toBe("'none'");
    expect(map.get('frame-ancestors')).toBe("'none'");
  });

  it('uses wss:// for an https dev server', () => {
    const map = directives(contentSecurityPolicy({ devServerOrigin: 'https://localhost:5173' }));
    expect(map.get('connect-src')).toBe("'self' wss://localhost:5173");
  });
});

describe('resolveInside', () => {
  const root = path.resolve('/srv/renderer');

  it('resolves a normal file inside the root', () => {
    expect(resolveInside(root, '/index.html')).toBe(path.join(root, 'index.html'));
    expect(resolveInside(root, '/assets/app.js')).toBe(path.join(root, 'assets', 'app.js'));
    expect(resolveInside(root, 'assets/app.js')).toBe(path.join(root, 'assets', 'app.js'));
  });

  it('decodes percent-encoded names that stay inside', () => {
    expect(resolveInside(root, '/my%20file.txt')).toBe(path.join(root, 'my file.txt'));
    expect(resolveInside(root, '/a/../b.js')).toBe(path.join(root, 'b.js'));
  });

  it('refuses paths that climb out of the root', () => {
    expect(resolveInside(root, '../x')).toBeNull();
    expect(resolveInside(root, '/../../etc/passwd')).toBeNull();
    expect(resolveInside(root, '/assets/../../x')).toBeNull();
    expect(resolveInside(root, '..')).toBeNull();
  });

  it('refuses encoded traversal', () => {
    expect(resolveInside(root, '%2e%2e%2fsecret')).toBeNull();
    expect(resolveInside(root, '/%2e%2e/secret')).toBeNull();
    expect(resolveInside(root, '..%2f..%2f')).toBeNull();
    expect(resolveInside(root, '/..%2f..%2fetc%2fpasswd')).toBeNull();
  });

  it('refuses a NUL byte', () => {
    expect(resolveInside(root, '/index.html%00.png')).toBeNull();
    expect(resolveInside(root, '/index.html\0')).toBeNull();
  });

  it('refuses malformed percent-encoding', () => {
    expect(resolveInside(root, '/%E0%A4%A')).toBeNull();
    expect(resolveInside(root, '/%')).toBeNull();
  });

  it('refuses a sibling folder that shares the root as a prefix', () => {
    const app = path.resolve('/tmp/app');
    expect(resolveInside(app, '../app-evil/secret.txt')).toBeNull();
    expect(resolveInside(app, '/..%2fapp-evil%2fsecret.txt')).toBeNull();
  });
});

describe('isWithin', () => {
  it('accepts the root itself and anything below it', () => {
    expect(isWithin('/tmp/app', '/tmp/app')).toBe(true);
    expect(isWithin('/tmp/app', '/tmp/app/')).toBe(true);
    expect(isWithin('/tmp/app', '/tmp/app/index.html')).toBe(true);
    expect(isWithin('/tmp/app', '/tmp/app/a/b/c.js')).toBe(true);
  });

  it('accepts names that merely start with two dots', () => {
    expect(isWithin('/tmp/app', '/tmp/app/..hidden')).toBe(true);
  });

  it('refuses a sibling folder sharing a prefix', () => {
    expect(isWithin('/tmp/app', '/tmp/app-evil/index.html')).toBe(false);
    expect(isWithin('/tmp/app', '/tmp/app-evil')).toBe(false);
    expect(isWithin('/tmp/app', '/tmp/appx')).toBe(false);
  });

  it('refuses parents and unrelated paths', () => {
    expect(isWithin('/tmp/app', '/tmp')).toBe(false);
    expect(isWithin('/tmp/app', '/')).toBe(false);
    expect(isWithin('/tmp/app', '/etc/passwd')).toBe(false);
    expect(isWithin('/tmp/app', '/tmp/app/../other')).toBe(false);
  });
});

describe('isLoopbackAddress', () => {
  it('accepts IPv4 and IPv6 loopback addresses', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '127.255.255.255', '::1', '::ffff:127.0.0.1', '::FFFF:127.0.0.1']) {
      expect(isLoopbackAddress(address), address).toBe(true);
    }
  });

  it('refuses everything else', () => {
    for (const address of [
      '10.0.0.1',
      '192.168.1.1',
      '0.0.0.0',
      '128.0.0.1',
      '::ffff:10.0.0.1',
      '::2',
      '127.0.0.1.evil',
      'x127.0.0.1',
      '127.0.0.256',
      '127.0.0',
      'localhost',
      '',
    ]) {
      expect(isLoopbackAddress(address), address).toBe(false);
    }
    expect(isLoopbackAddress(undefined)).toBe(false);
  });
});
