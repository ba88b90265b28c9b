import { describe, expect, it } from 'vitest';
import type { AuditEventInput } from '../audit/index.ts';
import { createRefusalLog, REFUSAL_WINDOW_MS, REFUSALS_PER_WINDOW } from './refusal-log.ts';

// The flood guard on refusal records, with a hand-driven clock: no timing.

function setup() {
  const events: AuditEventInput[] = [];
  let clock = Date.parse('2026-12-05T10:00:00.000Z');
  const log = createRefusalLog(
    (event) => events.push(event),
    () => clock,
  );
  return { events, log, advance: (ms: number) => (clock += ms) };
}

const refusals = (events: AuditEventInput[]) => events.filter((event) => event.type === 'api.refused').map((event) => event.data as Record<string, unknown>);

describe('refusal log', () => {
  it('records each refusal while there are few', () => {
    const { events, log } = setup();
    log.record({ endpoint: 'POST /v1/chat/completions' }, 401, 'no token', null);
    log.record({ endpoint: 'GET /v1/models' }, 403, 'foreign origin', 'notebook');
    expect(refusals(events)).toEqual([
      { token: null, endpoint: 'POST /v1/chat/completions', status: 401, reason: 'no token' },
      { token: 'notebook', endpoint: 'GET /v1/models', status: 403, reason: 'foreign origin' },
    ]);
    log.flush();
    expect(events).toHaveLength(2);
  });

  it('past the budget of a minute, counts the rest and writes one summary at flush', () => {
    const { events, log } = setup();
    for (let i = 0; i < REFUSALS_PER_WINDOW + 500; i += 1) log.record({ endpoint: 'POST /api/chat' }, 403, 'foreign origin', null);
    expect(refusals(events)).toHaveLength(REFUSALS_PER_WINDOW);
    log.flush();
    const all = refusals(events);
    expect(all).toHaveLength(REFUSALS_PER_WINDOW + 1);
    expect(all.at(-1)).toMatchObject({ endpoint: 'POST /api/chat', status: 403, omitted: 500 });
    expect(String(all.at(-1)?.reason)).toContain('500 more refusals');
    log.flush();
    expect(refusals(events)).toHaveLength(REFUSALS_PER_WINDOW + 1);
  });

  it('a new minute writes the last one’s summary first, then records one by one again', () => {
    const { events, log, advance } = setup();
    for (let i = 0; i < REFUSALS_PER_WINDOW + 3; i += 1) log.record({ endpoint: 'GET /v1/models' }, 401, 'wrong token', null);
    advance(REFUSAL_WINDOW_MS);
    log.record({ endpoint: 'GET /api/tags' }, 401, 'wrong token', null);
    const all = refusals(events);
    expect(all).toHaveLength(REFUSALS_PER_WINDOW + 2);
    expect(all.at(-2)).toMatchObject({ omitted: 3 });
    expect(all.at(-1)).toEqual({ token: null, endpoint: 'GET /api/tags', status: 401, reason: 'wrong token' });
  });
});
