// @ts-check
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import local from './eslint-rules/layering.js';

const NETWORK_GLOBALS = ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest'].map((name) => ({
  name,
  message: 'Soberana makes no outbound connections: network globals are banned here.',
}));
const NETWORK_PROPERTIES = ['globalThis', 'window', 'self', 'global'].flatMap((object) =>
  ['fetch', 'WebSocket', 'EventSource', 'XMLHttpRequest'].map((property) => ({
    object,
    property,
    message: 'Soberana makes no outbound connections: network globals are banned here.',
  })),
);

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', 'test-results/**', 'playwright-report/**', 'bench-results/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2024, sourceType: 'module', globals: { ...globals.node } },
    plugins: { local },
    rules: {
      'local/layering': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always'],
    },
  },
  {
    files: ['electron/**'],
    rules: {
      'no-restricted-globals': ['error', ...NETWORK_GLOBALS],
      'no-restricted-properties': ['error', ...NETWORK_PROPERTIES],
    },
  },
  {
    files: ['renderer/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-globals': ['error', ...NETWORK_GLOBALS],
      'no-restricted-properties': [
        'error',
        ...NETWORK_PROPERTIES,
        { object: 'window', property: 'api', message: 'Call renderer/src/api/client.ts instead of window.api.' },
      ],
    },
  },
  {
    // The one module allowed to touch window.api.
    files: ['renderer/src/api/client.ts'],
    rules: { 'no-restricted-properties': ['error', ...NETWORK_PROPERTIES] },
  },
  {
    files: ['e2e/harness/browser-bridge.ts'],
    languageOptions: { globals: { ...globals.browser } },
  },
);
