// @ts-check
import { builtinModules } from 'node:module';
import path from 'node:path';

/**
 * Enforces the layering table of docs/architecture.md, and bans network modules in
 * electron/**. A file's layer comes from its folder; an import's layer from the folder
 * it resolves to, or from its kind (Node built-in, `electron`, a package).
 */

/** @typedef {'common'|'guard'|'services'|'main'|'runtime'|'preload'|'cli'|'renderer'|'native'|'e2e'} Layer */

/** Most specific folder first. */
const LAYER_FOLDERS = /** @type {const} */ ([
  ['electron/common', 'common'],
  // Process-wide guards that every Node process (main, CLI, inference, workers) installs at
  // start. Its own layer because no other folder may be imported by both services and runtime.
  ['electron/guard', 'guard'],
  ['electron/main/services', 'services'],
  ['electron/main', 'main'],
  ['electron/runtime', 'runtime'],
  ['electron/preload', 'preload'],
  ['electron/cli', 'cli'],
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
  main: { layers: ['common', 'guard', 'services', 'main'], node: true, electron: true, packages: true },
  runtime: { layers: ['common', 'guard', 'runtime'], node: true, electron: false, packages: ['node-llama-cpp'] },
  preload: { layers: ['common'], node: false, electron: true, packages: [] },
  // native/: doctor checks the shipped binaries against their manifest.
  cli: { layers: ['common', 'guard', 'services', 'native', 'cli'], node: true, electron: false, packages: true },
  renderer: { layers: ['common', 'renderer'], node: false, electron: false, packages: true },
  native: { layers: ['native'], node: true, electron: false, packages: true },
  e2e: { layers: ['common', 'guard', 'services', 'main', 'runtime', 'preload', 'cli', 'renderer', 'native', 'e2e'], node: true, electron: true, packages: true },
};

export const NETWORK_MODULES = ['http', 'https', 'http2', 'net', 'tls', 'dgram', 'dns', 'undici'];

/** Files under electron/ that may use the network: the opt-in loopback API server, once it exists. */
export const NETWORK_ALLOWLIST = /** @type {readonly string[]} */ ([]);

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
    const networkAllowed = NETWORK_ALLOWLIST.includes(file) || NETWORK_GUARD_FILES.includes(file);
    if (layer === null && !inElectron) return {};

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
        const target = path.relative(root, path.resolve(path.dirname(context.filename), specifier)).split(path.sep).join('/');
        const targetLayer = layerOf(target);
        // Tests may also use the e2e fixtures (the GGUF writer, models, documents).
        const testFixture = isTest && targetLayer === 'e2e';
        if (targetLayer !== null && !rules.layers.includes(targetLayer) && !testFixture) deny(`the ${targetLayer} layer`);
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
