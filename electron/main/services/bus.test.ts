import { describe, expect, it } from 'vitest';
import { createBus } from './bus.ts';

type Events = {
  'model.loaded': { readonly id: string; readonly sizeBytes: number };
  'settings.changed': { readonly theme: string };
};

describe('createBus', () => {
  it('delivers the typed payload to listeners of that event only', () => {
    const bus = createBus<Events>();
    const loaded: Events['model.loaded'][] = [];
    const changed: Events['settings.changed'][] = [];
    bus.on('model.loaded', (payload) => loaded.push(payload));
    bus.on('settings.changed', (payload) => changed.push(payload));

    const payload = { id: 'tiny', sizeBytes: 1024 };
    bus.emit('model.loaded', payload);

    expect(loaded).toEqual([{ id: 'tiny', sizeBytes: 1024 }]);
    expect(loaded[0]).toBe(payload);
    expect(changed).toEqual([]);
  });

  it('calls every listener of an event, in subscription order', () => {
    const bus = createBus<Events>();
    const order: string[] = [];
    bus.on('settings.changed', () => order.push('first'));
    bus.on('settings.changed', () => order.push('second'));
    bus.emit('settings.changed', { theme: 'dark' });
    expect(order).toEqual(['first', 'second']);
  });

  it('stops delivery after unsubscribing', () => {
    const bus = createBus<Events>();
    const seen: string[] = [];
    const off = bus.on('settings.changed', (payload) => seen.push(payload.theme));
    bus.on('settings.changed', (payload) => seen.push(`other:${payload.theme}`));

    bus.emit('settings.changed', { theme: 'dark' });
    off();
    bus.emit('settings.changed', { theme: 'light' });

    expect(seen).toEqual(['dark', 'other:dark', 'other:light']);
  });

  it('lets onAny see every event with its name, until unsubscribed', () => {
    const bus = createBus<Events>();
    const seen: [string, unknown][] = [];
    const off = bus.onAny((name, payload) => seen.push([name, payload]));

    bus.emit('model.loaded', { id: 'a', sizeBytes: 1 });
    bus.emit('settings.changed', { theme: 'dark' });
    off();
    bus.emit('settings.changed', { theme: 'light' });

    expect(seen).toEqual([
      ['model.loaded', { id: 'a', sizeBytes: 1 }],
      ['settings.changed', { theme: 'dark' }],
    ]);
  });

  it('keeps going past a throwing listener and reports the error', () => {
    const errors: unknown[] = [];
    const bus = createBus<Events>((error) => errors.push(error));
    const boom = new Error('listener broke');
    const seen: string[] = [];
    bus.on('settings.changed', () => {
      throw boom;
    });
    bus.on('settings.changed', (payload) => seen.push(`later:${payload.theme}`));
    bus.onAny((name) => seen.push(`any:${name}`));

    expect(() => bus.emit('settings.changed', { theme: 'dark' })).not.toThrow();

    expect(seen).toEqual(['later:dark', 'any:settings.changed']);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(boom);
  });

  it('reports a throwing onAny listener too, and does not throw without an error handler', () => {
    const errors: unknown[] = [];
    const reporting = createBus<Events>((error) => errors.push(error));
    reporting.onAny(() => {
      throw new Error('any broke');
    });
    reporting.emit('model.loaded', { id: 'x', sizeBytes: 0 });
    expect(errors).toHaveLength(1);
    expect((errors[0] as Error).message).toBe('any broke');

    const silent = createBus<Events>();
    const seen: string[] = [];
    silent.on('model.loaded', () => {
      throw new Error('ignored');
    });
    silent.on('model.loaded', (payload) => seen.push(payload.id));
    expect(() => silent.emit('model.loaded', { id: 'y', sizeBytes: 0 })).not.toThrow();
    expect(seen).toEqual(['y']);
  });
});
