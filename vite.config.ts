import react from '@vitejs/plugin-react';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import { contentSecurityPolicy } from './electron/main/security/policy.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
export const DEV_SERVER_PORT = 5173;
export const DEV_SERVER_ORIGIN = `http://localhost:${DEV_SERVER_PORT}`;

// The renderer bundle. Main, preload and CLI are built by scripts/build.ts.
export default defineConfig({
  root: path.join(here, 'renderer'),
  base: './',
  plugins: [react()],
  server: {
    host: 'localhost',
    port: DEV_SERVER_PORT,
    strictPort: true,
    headers: { 'Content-Security-Policy': contentSecurityPolicy({ devServerOrigin: DEV_SERVER_ORIGIN }) },
    fs: { allow: [here] },
  },
  build: {
    outDir: path.join(here, 'out/renderer'),
    emptyOutDir: true,
    target: 'chrome140',
    sourcemap: true,
    assetsInlineLimit: 0, // fonts stay files: CSP font-src 'self' has no data:
  },
});
