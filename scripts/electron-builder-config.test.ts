import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// electron-builder.yml against electron-builder's own JSON schema (app-builder-lib/scheme.json),
// with the ajv and js-yaml electron-builder itself depends on: a misspelt option is an error
// here rather than a silently ignored key at release time. Then the deployment rules
// docs/deploy.md relies on: per-machine installers in locations only an administrator can write.

const root = path.resolve(import.meta.dirname, '..');
const require = createRequire(path.join(root, 'node_modules', 'app-builder-lib', 'package.json'));
const Ajv = (require('ajv') as { default: new (options: object) => { compile(schema: unknown): ((data: unknown) => boolean) & { errors?: unknown } } }).default;
const yaml = require('js-yaml') as { load(text: string): unknown };

const config = yaml.load(readFileSync(path.join(root, 'electron-builder.yml'), 'utf8')) as Record<string, Record<string, unknown>>;

describe('electron-builder.yml', () => {
  it('is valid for electron-builder’s schema', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(JSON.parse(readFileSync(require.resolve('app-builder-lib/scheme.json'), 'utf8')));
    expect(validate(config) ? [] : validate.errors).toEqual([]);
    expect(validate({ ...config, nsis: { ...config.nsis, perMachin: true } })).toBe(false);
  });

  it('builds NSIS and MSI, DMG and PKG, AppImage, deb and rpm', () => {
    expect(config.win!.target).toEqual(['nsis', 'msi']);
    expect(config.mac!.target).toEqual(['dmg', 'pkg']);
    expect(config.linux!.target).toEqual(['AppImage', 'deb', 'rpm']);
  });

  it('installs per machine, where only an administrator can write', () => {
    expect(config.nsis).toMatchObject({ oneClick: false, perMachine: true, allowToChangeInstallationDirectory: false });
    expect(config.msi).toMatchObject({ perMachine: true });
    expect(config.pkg).toMatchObject({ installLocation: '/Applications', allowAnywhere: false, allowCurrentUserHome: false, isRelocatable: false });
  });
});
