// Lint rules, including the part boundaries of ARCHITECTURE.md as mechanical rules (no-restricted-imports per
// folder; the per-part tsconfigs of scripts/typecheck.mjs add what the compiler can see: no DOM, no 'vscode').
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ort = {
  group: ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-*'],
  message: 'Only runtime/backend/ort.ts imports onnxruntime.',
};
/** Test code that tools outside test/ must not reach into: only test/helpers is shared with bench/ and scripts/. */
const testOnly = {
  group: ['**/test/e2e/**', '**/test/unit/**', '**/test/integration/**', '**/test/reference/**'],
  message: 'ARCHITECTURE.md: bench/ and scripts/ may import test/helpers/, not the tests themselves.',
};
const ours = (...parts) =>
  parts.map((p) => ({ group: [`**/${p}`, `**/${p}/**`], message: `ARCHITECTURE.md: this part may not import ${p}/.` }));

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.cache/**', 'test-results/**', '.vscode-test/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { patterns: [ort] }],
    },
  },
  {
    files: ['runtime/**/*.ts'],
    ignores: ['runtime/backend/ort.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [ort, ...ours('protocol', 'figures', 'writers', 'extension', 'webview', 'cli')],
        },
      ],
    },
  },
  {
    // The lowest layer: onnxruntime behind a Session; it reads only runtime/types.ts and runtime/errors.ts.
    files: ['runtime/backend/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [
            ...ours('protocol', 'extension', 'webview', 'cli'),
            {
              group: ['../*/**', '../../**'],
              message: 'ARCHITECTURE.md: runtime/backend imports only runtime/types.ts and runtime/errors.ts.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('figures', 'writers', 'extension', 'webview', 'cli')] },
      ],
      // The contract between host and webview carries runtime's data shapes, never its code.
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime', '**/runtime/**'],
              allowTypeImports: true,
              message: 'ARCHITECTURE.md: protocol/ imports only types from runtime/ (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    // Figures: pure functions from run data to scenes, for the panel, the host and the CLI alike. Runtime's types only;
    // no DOM, no Node (figures/tsconfig.json has neither), no 'vscode'.
    files: ['figures/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: ['vscode'],
          patterns: [
            ort,
            ...ours('protocol', 'writers', 'extension', 'webview', 'cli'),
            { group: ['node:*'], message: 'ARCHITECTURE.md: figures/ runs in the webview too: no Node modules.' },
          ],
        },
      ],
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/runtime', '**/runtime/**'],
              allowTypeImports: true,
              message: 'ARCHITECTURE.md: figures/ imports only types from runtime/ (import type).',
            },
          ],
        },
      ],
    },
  },
  {
    // Writers: files the host and the CLI write (data, SVG, PNG); Node, never the DOM or 'vscode'.
    files: ['writers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('protocol', 'extension', 'webview', 'cli')] },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('extension', 'cli', 'writers')] },
      ],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ort, ...ours('cli', 'webview')] }] },
  },
  {
    files: ['bench/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('extension', 'webview', 'cli'), testOnly] },
      ],
    },
  },
  {
    // Shared by the tests, bench/ and scripts/: nothing in it may pull in a test file.
    files: ['test/helpers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [ort, { group: ['../e2e/**', '../unit/**', '../integration/**'], message: testOnly.message }],
        },
      ],
    },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['vscode'], patterns: [ort, ...ours('extension', 'webview')] }],
    },
  },
);
