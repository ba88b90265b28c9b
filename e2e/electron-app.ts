import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

/**
 * The Electron binary's path, or null where it is not installed (as on build machines
 * that install with ELECTRON_SKIP_BINARY_DOWNLOAD=1). The electron package's main
 * export is that path, and it throws when the binary was never downloaded.
 */
export function electronBinary(): string | null {
  try {
    const binary = createRequire(import.meta.url)('electron') as unknown;
    return typeof binary === 'string' && existsSync(binary) ? binary : null;
  } catch {
    return null;
  }
}
