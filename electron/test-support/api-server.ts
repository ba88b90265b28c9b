import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { ApiScope, ApiTokenCreated } from '../common/contract/index.ts';
import type { CallContext } from '../common/handlers.ts';
import { AppError, type Result } from '../common/result.ts';
import { createCore, type Core } from '../main/services/core.ts';
import { importModel, libraryDirFor, scanModels } from '../main/services/models/index.ts';
import { DEFAULT_SETTINGS } from '../main/services/settings.ts';
import type { ApiService } from '../main/services/api/types.ts';
import { createHttpApi, type HttpApiOptions } from '../server/http-api.ts';

// For the local API's tests: a real core (SQLite, audit log, policy, inference process) with
// the real HTTP server wired in as main wires it, listening on an ephemeral loopback port, and
// optionally models in its library (the test writes them with the e2e GGUF writer, which
// tests may import and test support may not).

const HOST = { kind: 'cli' as const, electronVersion: null, chromeVersion: null, networkGuards: [] };

export const testContext = (): CallContext => ({ caller: { origin: 'test', isMainFrame: true }, signal: new AbortController().signal });

export function unwrap<T>(result: Result<T>): T {
  if (!result.ok) throw new AppError(result.error.code, result.error.message, result.error.details);
  return result.value;
}

export interface ApiTestServer {
  readonly core: Core;
  readonly dataDir: string;
  /** `http://127.0.0.1:PORT` */
  readonly base: string;
  readonly port: number;
  readonly addresses: readonly string[];
  /** The service the server calls, as createCore handed it over (to start a second listener). */
  readonly service: ApiService;
  token(scopes: readonly ApiScope[], extra?: { name?: string; expiresAt?: string | null; collections?: string[] | null }): ApiTokenCreated;
  close(): Promise<void>;
}

export interface ApiTestOptions {
  /** GGUF files to add to the library by reference; with any, the inference process starts. */
  readonly modelFiles?: readonly string[];
  /** Answers' length limit for the app's sampling settings (the tiny model never stops by itself). */
  readonly maxTokens?: number;
  readonly allowedOrigins?: readonly string[];
  readonly server?: HttpApiOptions;
  readonly policyFile?: string;
}

export async function startApiServer(options: ApiTestOptions = {}): Promise<ApiTestServer> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'soberana-api-'));
  let apiService = null as ApiService | null;
  const core = await createCore({
    dataDir,
    host: HOST,
    ...(options.policyFile === undefined ? {} : { policyFile: options.policyFile }),
    apiServer: (service) => {
      apiService = service;
      return createHttpApi(service, options.server ?? {});
    },
  });
  try {
    unwrap(
      await core.handlers['settings.update'](
        {
          runtime: {
            ...DEFAULT_SETTINGS.runtime,
            threads: 1,
            contextSize: 4096,
            sampling: { ...DEFAULT_SETTINGS.runtime.sampling, maxTokens: options.maxTokens ?? 12 },
          },
          api: { enabled: false, port: DEFAULT_SETTINGS.api.port, allowedOrigins: [...(options.allowedOrigins ?? [])] },
        },
        testContext(),
      ),
    );
    if (options.modelFiles !== undefined && options.modelFiles.length > 0) {
      for (const file of options.modelFiles) {
        const { candidates } = await scanModels(file);
        await importModel(core.storage, libraryDirFor(dataDir), candidates[0]!, { mode: 'reference' });
      }
      await core.runtime.start();
    }
    // Port 0: an ephemeral port, so test files running side by side never collide.
    const status = await core.api.controller.serve(0);
    if (status.state !== 'listening') throw new Error(`The local API did not start: ${status.problem ?? status.state}`);
    const first = status.addresses[0]!;
    const port = Number(new URL(first).port);
    if (apiService === null) throw new Error('createCore did not hand the API service to the server factory.');
    const service: ApiService = apiService;
    return {
      core,
      dataDir,
      service,
      base: `http://127.0.0.1:${port}`,
      port,
      addresses: status.addresses,
      token: (scopes, extra = {}) =>
        core.api.tokens.create({
          name: extra.name ?? `test ${scopes.join(' ')}`,
          scopes: [...scopes],
          expiresAt: extra.expiresAt ?? null,
          ...(extra.collections === undefined ? {} : { collections: extra.collections }),
        }),
      async close() {
        await core.close();
        await rm(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await core.close();
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}
