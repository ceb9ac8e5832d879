// Tests only: destroys the GPU device of the model running in the active panel — now, or right after layer N of the
// next run — as a GPU reset would, to check that the run completes on Wasm and the user is told. Returns whether a
// panel was there to ask.
import * as vscode from 'vscode';
import type { Services } from '../services';
import { TEST_COMMANDS } from './ids';

export function registerLoseGpuDevice(s: Services): vscode.Disposable {
  return vscode.commands.registerCommand(TEST_COMMANDS.loseGpuDevice, (afterLayer?: number) => {
    const port = s.panels.live()?.inference;
    port
      ?.request('inferLoseDevice', typeof afterLayer === 'number' ? { afterLayer } : {})
      .catch((e: unknown) => s.log.appendLine(`Losing the GPU device failed: ${String(e)}`));
    return port !== undefined;
  });
}
