import { ESLint } from 'eslint';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Lints offending snippets with the project's real ESLint config, as if they were
// files in each layer, and checks that the right rule fires.

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const eslint = new ESLint({ cwd: root });

async function problems(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, filePath) });
  return (result?.messages ?? []).map((message) => `${message.ruleId}: ${message.message}`);
}

const cases: [string, string, string, RegExp][] = [
  ['common imports Node', 'electron/common/bad.ts', "import fs from 'node:fs';\nexport const x = fs;", /local\/layering: common may not import Node built-ins/],
  [
    'common imports a package other than zod',
    'electron/common/bad.ts',
    "import React from 'react';\nexport const x = React;",
    /common may not import the package react/,
  ],
  ['common imports the main layer', 'electron/common/bad.ts', "export { createRouter } from '../main/ipc/router.ts';", /common may not import the main layer/],
  ['services import electron', 'electron/main/services/bad.ts', "import { app } from 'electron';\nexport const x = app;", /services may not import electron/],
  [
    'services import the shell',
    'electron/main/services/bad.ts',
    "import { createMainWindow } from '../window.ts';\nexport const x = createMainWindow;",
    /services may not import the main layer/,
  ],
  [
    'renderer imports services',
    'renderer/src/bad.ts',
    "import { createCore } from '../../electron/main/services/core.ts';\nexport const x = createCore;",
    /renderer may not import the services layer/,
  ],
  ['renderer imports Node', 'renderer/src/bad.ts', "import path from 'node:path';\nexport const x = path;", /renderer may not import Node built-ins/],
  [
    'renderer imports electron',
    'renderer/src/bad.ts',
    "import { ipcRenderer } from 'electron';\nexport const x = ipcRenderer;",
    /renderer may not import electron/,
  ],
  ['renderer touches window.api outside the client', 'renderer/src/bad.ts', 'export const x = window.api;', /no-restricted-properties: .*client\.ts/],
  ['preload imports Node', 'electron/preload/bad.ts', "import fs from 'fs';\nexport const x = fs;", /preload may not import Node built-ins/],
  [
    'cli imports the shell',
    'electron/cli/bad.ts',
    "import { createMainWindow } from '../main/window.ts';\nexport const x = createMainWindow;",
    /cli may not import the main layer/,
  ],
  [
    'the server imports a package',
    'electron/server/bad.ts',
    "import OpenAI from 'openai';\nexport const x = OpenAI;",
    /server may not import the package openai/,
  ],
  ['main imports http', 'electron/main/bad.ts', "import http from 'node:http';\nexport const x = http;", /Network module "node:http" is banned/],
  ['services import https', 'electron/main/services/bad.ts', "import * as https from 'https';\nexport const x = https;", /Network module "https" is banned/],
  ['main requires net', 'electron/main/bad.ts', "const net = require('net');\nexport const x = net;", /Network module "net" is banned/],
  [
    'main imports dns/promises dynamically',
    'electron/main/bad.ts',
    "export const x = await import('node:dns/promises');",
    /Network module "node:dns\/promises" is banned/,
  ],
  ['main re-exports tls', 'electron/main/bad.ts', "export { connect } from 'node:tls';", /Network module "node:tls" is banned/],
  ['main imports dgram', 'electron/main/bad.ts', "import dgram from 'dgram';\nexport const x = dgram;", /Network module "dgram" is banned/],
  ['main imports undici', 'electron/main/bad.ts', "import { request } from 'undici';\nexport const x = request;", /Network module "undici" is banned/],
  ['main imports Electron net', 'electron/main/bad.ts', "import { net } from 'electron';\nexport const x = net;", /Electron's `net` is banned/],
  ['main requires Electron net', 'electron/main/bad.ts', "export const x = require('electron').net;", /Electron's `net` is banned/],
  ['main calls global fetch', 'electron/main/bad.ts', "export const x = fetch('https://example.com');", /no-restricted-globals: .*no outbound connections/],
  [
    'main calls globalThis.fetch',
    'electron/main/bad.ts',
    "export const x = globalThis.fetch('https://example.com');",
    /no-restricted-properties: .*no outbound connections/,
  ],
  ['runtime opens a WebSocket', 'electron/runtime/bad.ts', "export const x = new WebSocket('ws://example.com');", /no-restricted-globals/],
  [
    'services import test support',
    'electron/main/services/chat/bad.ts',
    "import { openTestGate } from '../../../test-support/test-gate.ts';\nexport const x = openTestGate;",
    /services may not import test support/,
  ],
  ['the shell imports test support', 'electron/main/bad.ts', "export { CLI_ENTRY } from '../test-support/run-cli.ts';", /main may not import test support/],
  [
    'the CLI imports test support',
    'electron/cli/bad.ts',
    "export const x = await import('../test-support/bundles-fixtures.ts');",
    /cli may not import test support/,
  ],
  [
    'renderer imports test support',
    'renderer/src/bad.ts',
    "export { signedPolicy } from '../../electron/test-support/policy-fixtures.ts';",
    /renderer may not import test support/,
  ],
  [
    'renderer imports its own test builders',
    'renderer/src/stores/bad.ts',
    "export { thread } from '../test-support/chat-data.ts';",
    /renderer may not import test support/,
  ],
  [
    'test support imports the shell',
    'electron/test-support/bad.ts',
    "export { createMainWindow } from '../main/window.ts';",
    /test-support may not import the main layer/,
  ],
  [
    'storage imports chat (upward inside services)',
    'electron/main/services/storage/bad.ts',
    "import { createChatStore } from '../chat/store.ts';\nexport const x = createChatStore;",
    /services\/storage \(rank 0\) may not import services\/chat\/store\.ts \(rank 1\)/,
  ],
  [
    'gguf imports the domain',
    'electron/main/services/gguf/bad.ts',
    "import type { Gate } from '../domain/gate.ts';\nexport type X = Gate;",
    /services\/gguf .* may not import services\/domain /,
  ],
  [
    'policy imports the bundle service',
    'electron/main/services/policy/bad.ts',
    "export { createBundleService } from '../bundles/service.ts';",
    /services\/policy .* may not import services\/bundles\/service\.ts/,
  ],
  [
    'models import the core',
    'electron/main/services/models/bad.ts',
    "export const x = await import('../core.ts');",
    /services\/models .* may not import services\/core\.ts/,
  ],
  [
    'the domain imports a part of chat other than its store',
    'electron/main/services/domain/bad.ts',
    "export { answer } from '../chat/answer.ts';",
    /services\/domain .* may not import services\/chat /,
  ],
  [
    'a new services folder has no rank',
    'electron/main/services/newfolder/bad.ts',
    "export { openDatabase } from '../storage/sqlite.ts';",
    /services\/newfolder has no rank/,
  ],
];

describe('lint enforces the layering table and the network ban', () => {
  for (const [name, file, code, expected] of cases) {
    it(`fires when ${name}`, async () => {
      const found = await problems(file, code);
      expect(
        found.some((problem) => expected.test(problem)),
        found.join('\n') || '(no problems reported)',
      ).toBe(true);
    });
  }

  it('stays quiet on allowed imports', async () => {
    expect(await problems('electron/common/ok.ts', "import { z } from 'zod';\nimport { ok } from './result.ts';\nexport const x = [z, ok];")).toEqual([]);
    expect(
      await problems('electron/main/services/ok.ts', "import fs from 'node:fs';\nimport { ok } from '../../common/result.ts';\nexport const x = [fs, ok];"),
    ).toEqual([]);
    expect(await problems('electron/main/ok.ts', "import { app } from 'electron';\nexport const x = app;")).toEqual([]);
    expect(
      await problems('renderer/src/ok.ts', "import type { Settings } from '../../electron/common/contract/schemas.ts';\nexport type X = Settings;"),
    ).toEqual([]);
    // Downward and lateral imports inside services/, and a test reaching up from a low folder.
    expect(
      await problems(
        'electron/main/services/chat/ok.ts',
        "import { transaction } from '../storage/sqlite.ts';\nimport type { Gate } from '../domain/gate.ts';\nexport const x = transaction;\nexport type X = Gate;",
      ),
    ).toEqual([]);
    expect(
      await problems('electron/main/services/domain/ok.ts', "import { createChatStore } from '../chat/store.ts';\nexport const x = createChatStore;"),
    ).toEqual([]);
    expect(
      await problems(
        'electron/main/services/storage/ok.ts',
        "import { openDatabase } from './sqlite.ts';\nimport { writeFileAtomic } from '../atomic-file.ts';\nexport const x = [openDatabase, writeFileAtomic];",
      ),
    ).toEqual([]);
    expect(
      await problems('electron/main/services/chat/store.ts', "import { createMessages } from './messages-store.ts';\nexport const x = createMessages;"),
    ).toEqual([]);
    expect(
      await problems('electron/main/services/storage/ok.test.ts', "import { createChatStore } from '../chat/store.ts';\nexport const x = createChatStore;"),
    ).toEqual([]);
    // The server's tests drive it with the official OpenAI and Ollama clients.
    expect(
      await problems('electron/server/ok.test.ts', "import OpenAI from 'openai';\nimport { Ollama } from 'ollama';\nexport const x = [OpenAI, Ollama];"),
    ).toEqual([]);
    // Tests, e2e/ and test support itself may use test support.
    expect(
      await problems(
        'electron/main/services/chat/ok.test.ts',
        "import { openTestGate } from '../../../test-support/test-gate.ts';\nexport const x = openTestGate;",
      ),
    ).toEqual([]);
    expect(await problems('electron/cli/ok.test.ts', "import { runCli } from '../test-support/run-cli.ts';\nexport const x = runCli;")).toEqual([]);
    expect(
      await problems('renderer/src/stores/chat/ok.test.ts', "import { thread } from '../../test-support/chat-data.ts';\nexport const x = thread;"),
    ).toEqual([]);
    expect(await problems('e2e/ok.ts', "import { buildBundle } from '../electron/test-support/bundles-fixtures.ts';\nexport const x = buildBundle;")).toEqual(
      [],
    );
    expect(
      await problems(
        'electron/test-support/ok.ts',
        "import { openDatabase } from '../main/services/storage/sqlite.ts';\nimport { createCore } from '../main/services/core.ts';\nexport const x = [openDatabase, createCore];",
      ),
    ).toEqual([]);
    // e2e may use the network: the harness's loopback WebSocket lives there.
    expect(await problems('e2e/harness/ok.ts', "import http from 'node:http';\nexport const x = http;")).toEqual([]);
  });
});
