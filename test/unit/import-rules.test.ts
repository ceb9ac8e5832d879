// The part boundaries of ARCHITECTURE.md are lint rules (eslint.config.mjs): each case lints a two-line file placed in
// a part with ESLint's own API and checks that the imports the design forbids are reported and the allowed ones
// are not.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { ESLint } from 'eslint';
import { repoRoot } from '../helpers/fixtures';

const eslint = new ESLint({ cwd: repoRoot });

/** The messages of the import rules for `code` as if it were the file `file` (repository-relative). */
async function importProblems(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(repoRoot, file) });
  return result.messages
    .filter((m) => m.ruleId === 'no-restricted-imports' || m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

const cases: { file: string; code: string; reported: RegExp | null }[] = [
  // runtime/backend: the lowest layer.
  { file: 'runtime/backend/x.ts', code: "import type { Stage } from '../models/plan';", reported: /runtime\/backend/ },
  { file: 'runtime/backend/x.ts', code: "import type { FeedTensor } from '../types';", reported: null },
  {
    file: 'runtime/models/x.ts',
    code: "import * as ort from 'onnxruntime-node';",
    reported: /runtime\/backend\/ort\.ts/,
  },
  { file: 'runtime/models/x.ts', code: "import * as vscode from 'vscode';", reported: /vscode/ },
  // protocol: runtime's types only.
  { file: 'protocol/x.ts', code: "import { LensError } from '../runtime/errors';", reported: /only types/ },
  { file: 'protocol/x.ts', code: "import type { LensErrorCode } from '../runtime/errors';", reported: null },
  { file: 'protocol/x.ts', code: "import { panelHtml } from '../extension/panel';", reported: /extension/ },
  // webview: never vscode or the extension.
  { file: 'webview/x.ts', code: "import { AttentionPanel } from '../extension/panel';", reported: /extension/ },
  { file: 'webview/x.ts', code: "import { sceneToPng } from '../writers/png';", reported: /writers/ },
  { file: 'webview/x.ts', code: "import { matrixFigure } from '../figures/matrix-figure';", reported: null },
  // figures: runtime's types only; no Node, no webview, no writers.
  { file: 'figures/x.ts', code: "import type { LayerAttention } from '../runtime/types';", reported: null },
  { file: 'figures/x.ts', code: "import { LensError } from '../runtime/errors';", reported: /only types/ },
  { file: 'figures/x.ts', code: "import { readFileSync } from 'node:fs';", reported: /no Node/ },
  { file: 'figures/x.ts', code: "import { SceneCanvas } from '../webview/paint/scene-canvas';", reported: /webview/ },
  { file: 'figures/x.ts', code: "import { sceneToPng } from '../writers/png';", reported: /writers/ },
  // writers: figures and runtime, never the webview; the host and the CLI use them, never the webview.
  { file: 'writers/x.ts', code: "import { sceneToSvg } from '../figures/svg';", reported: null },
  { file: 'writers/x.ts', code: "import { panelTheme } from '../webview/paint/panel-theme';", reported: /webview/ },
  { file: 'extension/x.ts', code: "import { exportImage } from '../writers/export-image';", reported: null },
  { file: 'extension/x.ts', code: "import { GridView } from '../webview/views/grid';", reported: /webview/ },
  { file: 'cli/x.ts', code: "import { ExplainView } from '../webview/views/explain';", reported: /webview/ },
  { file: 'runtime/x.ts', code: "import { matrixFigure } from '../figures/matrix-figure';", reported: /figures/ },
  // bench/ and scripts/: runtime, protocol and test/helpers; not the extension, the webview, the CLI or the tests.
  { file: 'bench/x.ts', code: "import { contentSecurityPolicy } from '../protocol/panel-page';", reported: null },
  { file: 'bench/x.ts', code: "import { repoRoot } from '../test/helpers/code-server';", reported: null },
  { file: 'bench/x.ts', code: "import { panelHtml } from '../extension/panel';", reported: /extension/ },
  { file: 'bench/x.ts', code: "import { runIfMain } from '../test/e2e/common';", reported: /test\/helpers/ },
  {
    file: 'scripts/x.ts',
    code: "import { naiveForward } from '../test/reference/naive-forward';",
    reported: /test\/helpers/,
  },
  // test/helpers: shared with bench/, so it pulls in no test file.
  { file: 'test/helpers/x.ts', code: "import { runIfMain } from '../e2e/common';", reported: /test\/helpers/ },
  { file: 'cli/x.ts', code: "import * as vscode from 'vscode';", reported: /vscode/ },
];

test('the import rules report what ARCHITECTURE.md forbids and nothing it allows', { timeout: 60_000 }, async () => {
  for (const c of cases) {
    const problems = await importProblems(c.file, `${c.code}\nexport {};\n`);
    if (c.reported === null) assert.deepEqual(problems, [], `${c.file}: ${c.code}`);
    else {
      assert.equal(problems.length, 1, `${c.file}: ${c.code} → ${JSON.stringify(problems)}`);
      assert.match(problems[0], c.reported, `${c.file}: ${c.code}`);
    }
  }
});
