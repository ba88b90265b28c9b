import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { contentTypeFor, readRendererFile } from './renderer-files.ts';

const INDEX = '<!doctype html><title>Soberana</title>';
const SCRIPT = 'console.log("renderer");';

let base: string;
let root: string;

beforeEach(async () => {
  // base/root is served; base/outside.txt sits next to it and must never be.
  base = await mkdtemp(path.join(os.tmpdir(), 'soberana-renderer-'));
  root = path.join(base, 'root');
  await mkdir(path.join(root, 'assets'), { recursive: true });
  await writeFile(path.join(root, 'index.html'), INDEX);
  await writeFile(path.join(root, 'assets', 'app.js'), SCRIPT);
  await writeFile(path.join(base, 'outside.txt'), 'secret');
});

afterEach(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('readRendererFile', () => {
  it("serves index.html for '/' as text/html", async () => {
    const file = await readRendererFile(root, '/');
    expect(file.status).toBe(200);
    if (file.status !== 200) return;
    expect(file.contentType).toBe('text/html; charset=utf-8');
    expect(file.body.toString('utf8')).toBe(INDEX);
  });

  it('serves index.html for the empty path too', async () => {
    const file = await readRendererFile(root, '');
    expect(file.status).toBe(200);
    if (file.status !== 200) return;
    expect(file.body.toString('utf8')).toBe(INDEX);
  });

  it('serves a .js file as text/javascript', async () => {
    const file = await readRendererFile(root, '/assets/app.js');
    expect(file.status).toBe(200);
    if (file.status !== 200) return;
    expect(file.contentType).toBe('text/javascript; charset=utf-8');
    expect(file.body.toString('utf8')).toBe(SCRIPT);
  });

  it('answers 404 for a missing file', async () => {
    expect(await readRendererFile(root, '/missing.js')).toEqual({ status: 404 });
  });

  it('answers 403 for traversal out of the root', async () => {
    expect(await readRendererFile(root, '/../outside.txt')).toEqual({ status: 403 });
    expect(await readRendererFile(root, '/..%2foutside.txt')).toEqual({ status: 403 });
  });

  it('answers 403 for a symlink inside the root that points outside it', async () => {
    await symlink(path.join(base, 'outside.txt'), path.join(root, 'link.txt'));
    expect(await readRendererFile(root, '/link.txt')).toEqual({ status: 403 });
  });

  it('follows a symlink that stays inside the root', async () => {
    await symlink(path.join(root, 'assets', 'app.js'), path.join(root, 'alias.js'));
    const file = await readRendererFile(root, '/alias.js');
    expect(file.status).toBe(200);
    if (file.status !== 200) return;
    expect(file.body.toString('utf8')).toBe(SCRIPT);
  });

  it('answers 404 for a directory', async () => {
    expect(await readRendererFile(root, '/assets')).toEqual({ status: 404 });
    expect(await readRendererFile(root, '/assets/')).toEqual({ status: 404 });
  });
});

describe('contentTypeFor', () => {
  it('maps known extensions case-insensitively and falls back to octet-stream', () => {
    expect(contentTypeFor('/x/style.CSS')).toBe('text/css; charset=utf-8');
    expect(contentTypeFor('/x/font.woff2')).toBe('font/woff2');
    expect(contentTypeFor('/x/blob.bin')).toBe('application/octet-stream');
    expect(contentTypeFor('/x/README')).toBe('application/octet-stream');
  });
});
