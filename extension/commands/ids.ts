// The ids of the extension's commands (package.json's contributes.commands), in one place: the command modules
// register them; notifications, the status bar and the hover's links run them. vscode-free, so that a unit test
// checks them against package.json.

export const COMMANDS = {
  showAttention: 'attentionLens.showAttention',
  showAttentionAsChat: 'attentionLens.showAttentionAsChat',
  showAttentionWithTarget: 'attentionLens.showAttentionWithTarget',
  selectModel: 'attentionLens.selectModel',
  cancel: 'attentionLens.cancel',
  setHubToken: 'attentionLens.setHubToken',
  export: 'attentionLens.export',
  tintAtCursor: 'attentionLens.tintAtCursor',
  clearTint: 'attentionLens.clearTint',
  copyModelPath: 'attentionLens.copyModelPath',
  openSavedRun: 'attentionLens.openSavedRun',
  /** The hover's links. */
  revealToken: 'attentionLens.revealToken',
  tintToken: 'attentionLens.tintToken',
} as const;

/** Commands for tests only (not in package.json): destroy the GPU device of the panel's model. */
export const TEST_COMMANDS = {
  loseGpuDevice: 'attentionLens.test.loseGpuDevice',
} as const;
