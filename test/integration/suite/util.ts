// Helpers for the integration suite (runs inside the extension host; may import 'vscode').
import * as assert from 'node:assert/strict';
import * as path from 'node:path';
import * as vscode from 'vscode';

export const EXTENSION_ID = 'attention-lens.attention-lens';
export const COMMANDS = [
  'attentionLens.showAttention',
  'attentionLens.showAttentionAsChat',
  'attentionLens.selectModel',
  'attentionLens.cancel',
] as const;

/** The extension's test API (extension/api.ts): what activate() returns. */
import type { AttentionLensApi, RunSummary } from '../../../extension/api';
export type { RunSummary };
export type AttentionLensTestApi = AttentionLensApi;

export async function getApi(): Promise<AttentionLensTestApi> {
  const ext = vscode.extensions.getExtension<AttentionLensTestApi>(EXTENSION_ID);
  assert.ok(
    ext,
    `extension ${EXTENSION_ID} is not loaded (installed: ${vscode.extensions.all
      .map((e) => e.id)
      .filter((id) => !id.startsWith('vscode.'))
      .join(', ')})`,
  );
  const api = await ext.activate();
  assert.ok(
    api && Array.isArray(api.runs) && typeof api.waitForRun === 'function' && typeof api.lastError === 'function',
    'activate() must return the test API { runs, waitForRun, lastError }',
  );
  return api;
}

/** Points attentionLens.modelPath at stories260K when nothing set it (the code-server harness writes it in settings.json). */
export async function ensureModelSetting(): Promise<string> {
  const cfg = vscode.workspace.getConfiguration('attentionLens');
  let model = cfg.get<string>('modelPath');
  if (!model) {
    const ext = vscode.extensions.getExtension(EXTENSION_ID)!;
    model = path.resolve(ext.extensionPath, 'test', 'fixtures', 'models', 'stories260K');
    await cfg.update('modelPath', model, vscode.ConfigurationTarget.Global);
  }
  return model;
}

export function lastRunId(api: AttentionLensTestApi): number {
  return api.runs.reduce((m, r) => Math.max(m, r.runId), 0);
}

/** Waits for the run with exactly this id (runs are recorded in the order they finish, not start). */
export async function waitForRunId(api: AttentionLensTestApi, runId: number, ms: number): Promise<RunSummary> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = api.runs.find((r) => r.runId === runId);
    if (run) return run;
    if (Date.now() > deadline)
      throw new Error(
        `run ${runId}: not finished after ${ms / 1000} s (finished: ${api.runs.map((r) => `${r.runId}:${r.state}`).join(' ')})`,
      );
    await sleep(50);
  }
}

export async function withTimeout<T>(what: string, ms: number, p: Thenable<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      Promise.resolve(p),
      new Promise<never>(
        (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no result after ${ms / 1000} s`)), ms)),
      ),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Opens a document with `content` and selects [startOffset, endOffset). */
export async function editorWith(content: string, startOffset: number, endOffset: number): Promise<vscode.TextEditor> {
  const doc = await vscode.workspace.openTextDocument({ content, language: 'plaintext' });
  const editor = await vscode.window.showTextDocument(doc, { preview: false, viewColumn: vscode.ViewColumn.One });
  editor.selection = new vscode.Selection(doc.positionAt(startOffset), doc.positionAt(endOffset));
  return editor;
}

/** Fires a command without awaiting it: a handler may await a notification that nobody dismisses. */
export function fire(command: string, ...args: unknown[]): void {
  void vscode.commands
    .executeCommand(command, ...args)
    .then(undefined, (e: unknown) => console.log(`[suite] ${command} rejected: ${String(e)}`));
}

export async function closeAllEditors(): Promise<void> {
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** Strips tokenizer word markers (sentencepiece ▁, byte-level Ġ, WordPiece ##) for comparison with source text. */
export function bareToken(text: string): string {
  return text
    .replace(/^(▁|Ġ|##)/, '')
    .replace(/▁/g, ' ')
    .trim();
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
