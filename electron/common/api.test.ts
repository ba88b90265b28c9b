import { describe, expect, it } from 'vitest';
import { buildApi, listApiEndpoints, splitEndpointName, type Bridge } from './api.ts';
import { contract, endpointKinds } from './contract/index.ts';

const inert: Bridge = {
  call: async () => ({ ok: true, value: null }),
  stream: () => () => undefined,
  subscribe: () => () => undefined,
};

describe('buildApi', () => {
  it('builds exactly one function per endpoint and nothing else', () => {
    const api = buildApi(endpointKinds, inert);
    expect(listApiEndpoints(api)).toEqual(Object.keys(endpointKinds).sort());
  });

  it('freezes the api so a page script cannot replace an endpoint', () => {
    const api = buildApi(endpointKinds, inert) as Record<string, Record<string, unknown>>;
    expect(Object.isFrozen(api)).toBe(true);
    expect(Object.isFrozen(api.app)).toBe(true);
    expect(() => {
      'use strict';
      (api.app as Record<string, unknown>).info = () => 'hijacked';
    }).toThrow(TypeError);
  });

  it('routes each kind to the matching bridge method with the endpoint’s name', async () => {
    const calls: string[] = [];
    const bridge: Bridge = {
      call: async (name) => (calls.push(`call ${name}`), { ok: true, value: null }),
      stream: (name) => (calls.push(`stream ${name}`), () => undefined),
      subscribe: (name) => (calls.push(`subscribe ${name}`), () => undefined),
    };
    const api = buildApi({ 'a.one': 'rpc', 'a.two': 'stream', 'b.three': 'event' }, bridge) as Record<string, Record<string, (...args: unknown[]) => unknown>>;
    await api.a!.one!({});
    api.a!.two!({}, () => undefined);
    api.b!.three!(() => undefined);
    expect(calls).toEqual(['call a.one', 'stream a.two', 'subscribe b.three']);
  });
});

describe('splitEndpointName', () => {
  it('accepts namespace.method and refuses anything else', () => {
    expect(splitEndpointName('app.info')).toEqual(['app', 'info']);
    for (const bad of ['app', '.info', 'app.', 'a.b.c', '']) expect(() => splitEndpointName(bad)).toThrow();
  });
});

describe('the contract', () => {
  it('matches the name table endpoint for endpoint', () => {
    expect(Object.keys(contract).sort()).toEqual(Object.keys(endpointKinds).sort());
    for (const [name, kind] of Object.entries(endpointKinds)) expect(contract[name as keyof typeof contract].kind).toBe(kind);
  });

  it('names every endpoint namespace.method', () => {
    for (const name of Object.keys(endpointKinds)) expect(() => splitEndpointName(name)).not.toThrow();
  });
});
