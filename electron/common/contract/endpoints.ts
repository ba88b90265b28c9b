import type { EndpointKind } from './define.ts';

// Every endpoint's name and kind, and nothing else. The preload builds `window.api`
// from this table alone; `contract.ts` is checked against it at compile time, so the
// two can never drift apart.
export const endpointKinds = {
  'app.info': 'rpc',
  'settings.get': 'rpc',
  'settings.update': 'rpc',
  'diagnostics.run': 'stream',
  'files.pickModel': 'rpc',
  'runtime.state': 'rpc',
  'runtime.load': 'stream',
  'runtime.unload': 'rpc',
  'runtime.generate': 'stream',
  'models.list': 'rpc',
  'models.scan': 'rpc',
  'models.import': 'stream',
  'models.fit': 'rpc',
  'models.load': 'stream',
  'models.rename': 'rpc',
  'models.remove': 'rpc',
  'models.verify': 'stream',
  'models.setDefault': 'rpc',
  'models.setLoadSettings': 'rpc',
  'chat.list': 'rpc',
  'chat.create': 'rpc',
  'chat.get': 'rpc',
  'chat.update': 'rpc',
  'chat.delete': 'rpc',
  'chat.restore': 'rpc',
  'chat.send': 'stream',
  'chat.regenerate': 'stream',
  'chat.continue': 'stream',
  'chat.switchBranch': 'rpc',
  'chat.export': 'rpc',
  'presets.list': 'rpc',
  'presets.save': 'rpc',
  'presets.delete': 'rpc',
  'presets.export': 'rpc',
  'presets.import': 'rpc',
  'settings.changed': 'event',
  'chat.changed': 'event',
  'runtime.stateChanged': 'event',
  'models.changed': 'event',
} as const satisfies Record<string, EndpointKind>;

export type EndpointName = keyof typeof endpointKinds;
