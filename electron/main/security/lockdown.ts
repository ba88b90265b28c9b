import { app, protocol, session, type Session, type WebContents } from 'electron';
import { readRendererFile, RENDERER_HEADERS } from './renderer-files.ts';
import { APP_HOST, APP_SCHEME, contentSecurityPolicy, isAllowedNavigation, isAllowedRequest, type RequestPolicy } from './policy.ts';
import type { ShellLockdown } from './shell-lockdown.ts';

// The Electron wiring of the decisions in policy.ts. Each handler is one line of policy.

/** Must run before `app.ready`. */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } }]);
}

export function serveRenderer(target: Session, rendererRoot: string, policy: RequestPolicy): void {
  const csp = contentSecurityPolicy(policy);
  target.protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return new Response(null, { status: 403 });
    const file = await readRendererFile(rendererRoot, url.pathname);
    if (file.status !== 200) return new Response(null, { status: file.status });
    return new Response(new Uint8Array(file.body), {
      headers: { ...RENDERER_HEADERS, 'Content-Type': file.contentType, 'Content-Security-Policy': csp },
    });
  });
}

export function lockDownSession(target: Session, policy: RequestPolicy): void {
  target.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  target.setPermissionCheckHandler(() => false);
  target.setDevicePermissionHandler(() => false);
  target.setDisplayMediaRequestHandler((_request, callback) => callback({}));
  target.setSpellCheckerEnabled(false);
  target.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !isAllowedRequest(details.url, policy) }));
  // In development the Vite server sends its own headers; the CSP still applies.
  if (policy.devServerOrigin !== undefined) {
    const csp = contentSecurityPolicy(policy);
    target.webRequest.onHeadersReceived((details, callback) => callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } }));
  }
}

/** Applies to every WebContents the app ever creates, including ones it did not expect. */
export function lockDownContents(shell: Pick<ShellLockdown, 'devTools' | 'webRtcIpHandlingPolicy'>): void {
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.setWebRTCIPHandlingPolicy(shell.webRtcIpHandlingPolicy);
    // webPreferences.devTools is false when packaged; this also covers contents the app did not create.
    if (!shell.devTools) contents.on('devtools-opened', () => contents.closeDevTools());
    contents.on('will-navigate', (event) => {
      if (!isAllowedNavigation(event.url)) event.preventDefault();
    });
    contents.on('will-redirect', (event) => {
      if (!isAllowedNavigation(event.url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  });
}

export function defaultSession(): Session {
  return session.defaultSession;
}
