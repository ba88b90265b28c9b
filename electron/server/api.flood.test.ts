import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { installEgressGuard } from '../guard/egress.ts';
import { createCore } from '../main/services/core.ts';
import { REFUSALS_PER_WINDOW } from '../main/services/api/refusal-log.ts';
import { startApiServer, testContext, unwrap, type ApiTestServer } from '../test-support/api-server.ts';

// A web page in the user's browser can send refused requests to the loopback port as fast as
// it likes. Each is still refused, but the audit log records only the first of a minute one
// by one and the rest as one summary, so a flood neither freezes the app nor fills the disk.

installEgressGuard({ process: 'main' });

const FLOOD = 150;
let server: ApiTestServer;

beforeAll(async () => {
  server = await startApiServer({});
}, 60_000);

afterAll(async () => {
  await server?.close();
});

function get(path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, path, headers, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

const refusedRecords = async (core: Pick<ApiTestServer['core'], 'handlers'>) =>
  unwrap(await core.handlers['audit.list']({ type: 'api.refused', limit: 500 }, testContext())).records.map((record) => record.data as Record<string, unknown>);

describe('a flood of refused requests', () => {
  it('is refused request by request, recorded one by one up to the budget, then summed up at stop', async () => {
    const token = server.token(['models:read']).token;
    const statuses: number[] = [];
    for (let i = 0; i < FLOOD; i += 1) statuses.push(await get('/v1/models', { Authorization: `Bearer ${token}`, Origin: 'https://evil.example' }));
    expect(new Set(statuses)).toEqual(new Set([403]));
    // The app still serves its own token while refusing the page.
    expect(await get('/v1/models', { Authorization: `Bearer ${token}` })).toBe(200);
    expect(await refusedRecords(server.core)).toHaveLength(REFUSALS_PER_WINDOW);

    // Stopping writes the summary of the rest; a new start on the same folder reads it back.
    await server.core.close();
    const reopened = await createCore({ dataDir: server.dataDir, host: { kind: 'cli', electronVersion: null, chromeVersion: null, networkGuards: [] } });
    try {
      const records = await refusedRecords(reopened);
      expect(records).toHaveLength(REFUSALS_PER_WINDOW + 1);
      expect(records.find((record) => record.omitted !== undefined)).toMatchObject({
        omitted: FLOOD - REFUSALS_PER_WINDOW,
        status: 403,
        endpoint: 'GET /v1/models',
      });
    } finally {
      await reopened.close();
    }
  }, 120_000);
});
