// Lint rules, including the part boundaries of DESIGN.md as mechanical rules (no-restricted-imports per folder).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import globals from 'globals';

const ort = {
  group: ['onnxruntime-node', 'onnxruntime-web', 'onnxruntime-*'],
  message: 'Only runtime/backend/ort.ts imports onnxruntime.',
};
const ours = (...parts) =>
  parts.map((p) => ({ group: [`**/${p}`, `**/${p}/**`], message: `DESIGN.md: this part may not import ${p}/.` }));

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
        { paths: ['vscode'], patterns: [ort, ...ours('protocol', 'extension', 'webview', 'cli')] },
      ],
    },
  },
  {
    files: ['runtime/backend/ort.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: ours('protocol', 'extension', 'webview', 'cli') },
      ],
    },
  },
  {
    files: ['protocol/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('extension', 'webview', 'cli')] },
      ],
    },
  },
  {
    files: ['webview/**/*.ts'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      'no-restricted-imports': ['error', { paths: ['vscode'], patterns: [ort, ...ours('extension', 'cli')] }],
    },
  },
  {
    files: ['webview/render/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { paths: ['vscode'], patterns: [ort, ...ours('extension', 'cli', 'protocol', 'views')] },
      ],
    },
  },
  {
    files: ['extension/**/*.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: [ort, ...ours('cli', 'views')] }] },
  },
  {
    files: ['cli/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ['vscode'], patterns: [ort, ...ours('extension', 'views')] }],
    },
  },
);
