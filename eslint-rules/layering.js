// @ts-check
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Enforces the layering table of docs/architecture.md, and bans network modules in
 * electron/**. A file's layer comes from its folder; an import's layer from the folder
 * it resolves to, or from its kind (Node built-in, `electron`, a package).
 */

/** @typedef {'common'|'guard'|'services'|'server'|'test-support'|'main'|'runtime'|'preload'|'cli'|'renderer'|'native'|'e2e'} Layer */

/** Most specific folder first. */
const LAYER_FOLDERS = /** @type {const} */ ([
  ['electron/common', 'common'],
  // Process-wide guards that every Node process (main, CLI, inference, workers) installs at
  // start. Its own layer because no other folder may be imported by both services and runtime.
  ['electron/guard', 'guard'],
  ['electron/main/services', 'services'],
  // The local API's HTTP server (loopback only): the one folder allowed to import node:http.
  // It only calls the services (services/api/), so it sits above them; main and the CLI start it.
  ['electron/server', 'server'],
  // Crash children, fixtures, labelled sets: what tests need beside the services. Tests
  // (*.test.ts), e2e/ and scripts/ may import it; product code may not.
  ['electron/test-support', 'test-support'],
  ['electron/main', 'main'],
  ['electron/runtime', 'runtime'],
  ['electron/preload', 'preload'],
  ['electron/cli', 'cli'],
  // The renderer's test builders: the same rule, on the renderer's side.
  ['renderer/src/test-support', 'test-support'],
  ['renderer', 'renderer'],
  ['native', 'native'],
  ['e2e', 'e2e'],
]);

/**
 * What each layer may import: other layers, Node built-ins, `electron`, and packages
 * (`true` for any, or a list of names).
 * @type {Record<Layer, { layers: readonly Layer[]; node: boolean; electron: boolean; packages: boolean | readonly string[] }>}
 */
export const RULES = {
  common: { layers: ['common'], node: false, electron: false, packages: ['zod'] },
  guard: { layers: ['guard'], node: true, electron: false, packages: [] },
  services: { layers: ['common', 'guard', 'services'], node: true, electron: false, packages: true },
  server: { layers: ['common', 'guard', 'services', 'server'], node: true, electron: false, packages: [] },
  'test-support': { layers: ['common', 'guard', 'services', 'server', 'test-support', 'renderer'], node: true, electron: false, packages: true },
  main: { layers: ['common', 'guard', 'services', 'server', 'main'], node: true, electron: true, packages: true },
  runtime: { layers: ['common', 'guard', 'runtime'], node: true, electron: false, packages: ['node-llama-cpp'] },
  preload: { layers: ['common'], node: false, electron: true, packages: [] },
  // native/: doctor checks the shipped binaries against their manifest.
  cli: { layers: ['common', 'guard', 'services', 'server', 'native', 'cli'], node: true, electron: false, packages: true },
  renderer: { layers: ['common', 'renderer'], node: false, electron: false, packages: true },
  native: { layers: ['native'], node: true, electron: false, packages: true },
  e2e: {
    layers: ['common', 'guard', 'services', 'server', 'test-support', 'main', 'runtime', 'preload', 'cli', 'renderer', 'native', 'e2e'],
    node: true,
    electron: true,
    packages: true,
  },
};

/**
 * The order inside electron/main/services/, lowest first: a product module may import units of
 * its rank and lower ranks, never a higher rank. A unit is a folder or a top-level file of
 * services/; a few files rank apart from their folder (listed by path), where the folder holds
 * both a low part and a high part (the bundle format below policy, the bundle service above
 * models; the chat store below the domain, chat's answer and handlers above it). Files of one
 * folder may import each other: the order is between folders, and a file ranked apart is how
 * its folder offers a low entry to the folders below (domain/ uses chat/store.ts, nothing
 * else of chat/). Derived from the imports as they are; if the design changes, move the unit
 * here on purpose. Tests are exempt (a test may reach across); test support is its own layer.
 */
export const SERVICE_RANKS = /** @type {readonly (readonly string[])[]} */ ([
  // Foundations: files on disk, the database, the GGUF reader, PII detectors.
  ['product.ts', 'atomic-file.ts', 'files.ts', 'bus.ts', 'gguf', 'pii', 'storage'],
  // Records kept over storage; the bundle format (archive, manifest, keys, trust, verify, install).
  ['app-info.ts', 'data-dir.ts', 'settings.ts', 'diagnostics.ts', 'audit', 'chat/store.ts', 'bundles'],
  // Policy (it arrives in bundles, so it reads the bundle format).
  ['policy'],
  // Governance: what policy and settings mean together; runtime packs, checked against policy.
  ['governance.ts', 'bundles/runtime-pack.ts'],
  ['audit-trail.ts', 'bundles/runtime-pack-source.ts'],
  // The domain: the gate every governed action passes, its events, the audit subscriber.
  ['domain'],
  // Features behind the gate, each above what it uses.
  ['models', 'audit-handlers.ts', 'bundles/trust-store.ts'],
  ['inference', 'bundles/service.ts'],
  ['knowledge', 'models-handlers.ts', 'bundles-handlers.ts'],
  ['chat'],
  // The local API's rules: tokens, scopes, limits and each request on the record, over the features above;
  // answer dossiers (signed evidence of an answer: its chat records, passages, policy and bundles).
  ['api', 'dossier'],
  // The core wires everything.
  ['core.ts'],
]);

const SERVICES_ROOT = 'electron/main/services/';

/**
 * The rank of a path under services/, or null when its unit is not in SERVICE_RANKS.
 * @param {string} rel a posix path relative to the project root, under services/
 * @returns {{ unit: string; rank: number | null }}
 */
export function serviceRank(rel) {
  const inner = rel.slice(SERVICES_ROOT.length);
  const folder = inner.split('/')[0] ?? inner;
  for (const candidate of [inner, folder]) {
    const rank = SERVICE_RANKS.findIndex((units) => units.includes(candidate));
    if (rank !== -1) return { unit: candidate, rank };
  }
  return { unit: folder, rank: null };
}

export const NETWORK_MODULES = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns', 'undici'];

/** Packages the server's tests (only) may import: the official clients its acceptance tests use. */
export const API_TEST_CLIENTS = /** @type {readonly string[]} */ (['openai', 'ollama']);

/** Folders under electron/ whose files may use the network: the opt-in loopback API server. */
export const NETWORK_ALLOWLIST = /** @type {readonly string[]} */ (['electron/server/']);

/**
 * Files that import network modules only to disable them (the egress guard), to check that
 * they are disabled (its self-check), or to prove it in a test. Not a way to use the network.
 */
export const NETWORK_GUARD_FILES = /** @type {readonly string[]} */ (['electron/guard/egress.ts', 'electron/guard/probe.ts', 'electron/guard/egress.test.ts']);

const BUILTINS = new Set(builtinModules.filter((name) => !name.startsWith('_')));

/** @param {string} rel a posix path relative to the project root @returns {Layer | null} */
export function layerOf(rel) {
  for (const [folder, layer] of LAYER_FOLDERS) {
    const segments = folder.split('/');
    const parts = rel.split('/');
    if (segments.every((segment, index) => parts[index] === segment)) return layer;
  }
  return null;
}

/** `node:fs/promises` → `fs`; `@scope/pkg/sub` → `@scope/pkg`. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier[0] === '@' ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

function isBuiltin(specifier) {
  if (specifier.slice(0, 5) === 'node:') return true;
  return BUILTINS.has(packageName(specifier));
}

function builtinBase(specifier) {
  const bare = specifier.slice(0, 5) === 'node:' ? specifier.slice(5) : specifier;
  return bare.split('/')[0] ?? bare;
}

/** @type {import('eslint').Rule.RuleModule} */
export const layeringRule = {
  meta: {
    type: 'problem',
    docs: { description: 'Imports follow the layering table; no network modules in electron/' },
    schema: [],
    messages: {
      layer: '{{from}} may not import {{what}} ({{specifier}}). See the layering table in docs/architecture.md.',
      testSupport: '{{from}} may not import test support ({{specifier}}): only tests (*.test.ts), e2e/ and scripts/ may.',
      upward:
        'services/{{from}} (rank {{fromRank}}) may not import services/{{to}} (rank {{toRank}}), which sits above it ({{specifier}}). See SERVICE_RANKS in eslint-rules/layering.js.',
      unranked: 'services/{{unit}} has no rank in SERVICE_RANKS (eslint-rules/layering.js): give it one, so the order inside services/ stays checked.',
      network: 'Network module "{{specifier}}" is banned in electron/: Soberana makes no outbound connections.',
      electronNet: "Electron's `net` is banned in electron/: Soberana makes no outbound connections.",
    },
  },
  create(context) {
    const root = context.cwd;
    const file = path.relative(root, context.filename).split(path.sep).join('/');
    const layer = layerOf(file);
    // Tests follow their layer's rules, plus the test runner and the e2e fixtures.
    const isTest = /\.test\.tsx?$/.test(file);
    const inElectron = file.split('/')[0] === 'electron';
    const networkAllowed = NETWORK_ALLOWLIST.some((folder) => file.startsWith(folder)) || NETWORK_GUARD_FILES.includes(file);
    if (layer === null && !inElectron) return {};

    /** An import inside services/ may not run up SERVICE_RANKS. @param {import('estree').Node} node @param {string} specifier @param {string} target */
    function checkRank(node, specifier, target) {
      // Inside one folder, files may import each other: the order is between folders.
      const folderOf = (/** @type {string} */ rel) => {
        const parts = rel.slice(SERVICES_ROOT.length).split('/');
        return parts.length > 1 ? parts[0] : null;
      };
      if (folderOf(file) !== null && folderOf(file) === folderOf(target)) return;
      const from = serviceRank(file);
      const to = serviceRank(target);
      if (from.rank === null) context.report({ node, messageId: 'unranked', data: { unit: from.unit } });
      else if (to.rank === null) context.report({ node, messageId: 'unranked', data: { unit: to.unit } });
      else if (to.rank > from.rank) {
        context.report({ node, messageId: 'upward', data: { from: from.unit, fromRank: String(from.rank), to: to.unit, toRank: String(to.rank), specifier } });
      }
    }

    /** @param {import('estree').Node} node @param {string} specifier */
    function check(node, specifier) {
      if (inElectron && !networkAllowed && isBuiltin(specifier) && NETWORK_MODULES.includes(builtinBase(specifier))) {
        context.report({ node, messageId: 'network', data: { specifier } });
        return;
      }
      if (inElectron && !networkAllowed && packageName(specifier) === 'undici') {
        context.report({ node, messageId: 'network', data: { specifier } });
        return;
      }
      if (layer === null) return;
      const rules = RULES[layer];
      /** @param {string} what */
      const deny = (what) => context.report({ node, messageId: 'layer', data: { from: layer, what, specifier } });
      if (specifier[0] === '.' || specifier[0] === '/') {
        const target = path
          .relative(root, path.resolve(path.dirname(context.filename), specifier))
          .split(path.sep)
          .join('/');
        const targetLayer = layerOf(target);
        // Tests may also use the e2e fixtures (the GGUF writer, models, documents).
        const testFixture = isTest && (targetLayer === 'e2e' || targetLayer === 'test-support');
        if (targetLayer === 'test-support' && !rules.layers.includes(targetLayer) && !testFixture) {
          context.report({ node, messageId: 'testSupport', data: { from: layer, specifier } });
          return;
        }
        if (targetLayer !== null && !rules.layers.includes(targetLayer) && !testFixture) deny(`the ${targetLayer} layer`);
        if (layer === 'services' && targetLayer === 'services' && !isTest) checkRank(node, specifier, target);
        return;
      }
      if (isBuiltin(specifier)) {
        if (!rules.node) deny('Node built-ins');
        return;
      }
      if (specifier === 'electron' || specifier.slice(0, 9) === 'electron/') {
        if (!rules.electron) deny('electron');
        return;
      }
      if (isTest && packageName(specifier) === 'vitest') return;
      // The local API's acceptance tests drive the server with the official clients (devDependencies), unmodified.
      if (isTest && layer === 'server' && API_TEST_CLIENTS.includes(packageName(specifier))) return;
      if (rules.packages !== true && !rules.packages.includes(packageName(specifier))) deny(`the package ${packageName(specifier)}`);
    }

    /** @param {any} node */
    function fromSource(node) {
      if (node.source && typeof node.source.value === 'string') check(node, node.source.value);
    }

    return {
      ImportDeclaration(node) {
        fromSource(node);
        if (inElectron && !networkAllowed && node.source.value === 'electron') {
          for (const spec of node.specifiers) {
            if (spec.type === 'ImportSpecifier' && spec.imported.type === 'Identifier' && spec.imported.name === 'net') {
              context.report({ node: spec, messageId: 'electronNet' });
            }
          }
        }
      },
      ExportNamedDeclaration: fromSource,
      ExportAllDeclaration: fromSource,
      ImportExpression(node) {
        if (node.source.type === 'Literal' && typeof node.source.value === 'string') check(node, node.source.value);
      },
      CallExpression(node) {
        const [arg] = node.arguments;
        if (node.callee.type === 'Identifier' && node.callee.name === 'require' && arg?.type === 'Literal' && typeof arg.value === 'string') {
          check(node, arg.value);
        }
      },
      MemberExpression(node) {
        // require('electron').net
        if (!inElectron || networkAllowed) return;
        const object = /** @type {any} */ (node.object);
        if (
          node.property.type === 'Identifier' &&
          node.property.name === 'net' &&
          object.type === 'CallExpression' &&
          object.callee.type === 'Identifier' &&
          object.callee.name === 'require' &&
          object.arguments[0]?.value === 'electron'
        ) {
          context.report({ node, messageId: 'electronNet' });
        }
      },
    };
  },
};

export default { rules: { layering: layeringRule } };
