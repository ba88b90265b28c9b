// One internal event bus that every service emits typed events on. The IPC layer is
// one subscriber (it broadcasts contract events to windows); the audit log will be
// another.

export type Listener<T> = (payload: T) => void;

export interface Bus<E extends Record<string, unknown>> {
  emit<K extends keyof E & string>(name: K, payload: E[K]): void;
  on<K extends keyof E & string>(name: K, listener: Listener<E[K]>): () => void;
  onAny(listener: (name: keyof E & string, payload: E[keyof E]) => void): () => void;
}

export function createBus<E extends Record<string, unknown>>(onListenerError?: (error: unknown) => void): Bus<E> {
  const listeners = new Map<string, Set<Listener<never>>>();
  const anyListeners = new Set<(name: keyof E & string, payload: E[keyof E]) => void>();

  // A failing subscriber must not stop the others, nor the service that emitted.
  const guarded = (fn: () => void) => {
    try {
      fn();
    } catch (error) {
      onListenerError?.(error);
    }
  };

  return {
    emit(name, payload) {
      for (const listener of listeners.get(name) ?? []) guarded(() => (listener as Listener<typeof payload>)(payload));
      for (const listener of anyListeners) guarded(() => listener(name, payload));
    },
    on(name, listener) {
      let set = listeners.get(name);
      if (set === undefined) listeners.set(name, (set = new Set()));
      set.add(listener as Listener<never>);
      return () => void set.delete(listener as Listener<never>);
    },
    onAny(listener) {
      anyListeners.add(listener);
      return () => void anyListeners.delete(listener);
    },
  };
}
