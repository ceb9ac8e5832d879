// Choosing the model and remembering the models used: attentionLens.modelPath is written where the user keeps it
// (the workspace when it is set there and trusted, else the user settings), and the recent models with what each turned out to
// be (family, layers × heads, size) are kept in globalState for the Select Model list.
import * as vscode from 'vscode';
import { summarizeFolder } from '../runtime/models/source-resolver';
import { pushRecent } from './input';
import { infoOfFacts, type ModelInfo } from './model-choices';
import { readModelSettings, type ModelManager } from './model-manager';

const RECENT_KEY = 'attentionLens.recentModels';
/** Facts of models that loaded once (family, layers × heads), for the Select Model list. */
const INFO_KEY = 'attentionLens.modelInfo';

export class RecentModels {
  constructor(private readonly state: vscode.Memento) {}

  /** The recent models, most recent first. */
  recent(): string[] {
    return this.state.get<string[]>(RECENT_KEY, []).filter((p) => typeof p === 'string');
  }

  /** What each recent model turned out to be. */
  info(): Record<string, ModelInfo> {
    return this.state.get<Record<string, ModelInfo>>(INFO_KEY, {});
  }

  /** Makes `modelPath` the configured model and the most recent one. */
  async choose(modelPath: string): Promise<void> {
    const config = vscode.workspace.getConfiguration('attentionLens');
    const inspect = config.inspect<string>('modelPath');
    // In Restricted Mode the workspace's value is not used (model-manager.ts): the choice goes to the user settings.
    const target =
      vscode.workspace.isTrusted &&
      (inspect?.workspaceFolderValue !== undefined || inspect?.workspaceValue !== undefined)
        ? vscode.ConfigurationTarget.Workspace
        : vscode.ConfigurationTarget.Global;
    await config.update('modelPath', modelPath, target);
    await this.state.update(RECENT_KEY, pushRecent(this.state.get<string[]>(RECENT_KEY, []), modelPath));
  }

  /** Remembers every model that loads: a recent one, however it was configured, with its facts. */
  rememberLoaded(models: ModelManager): vscode.Disposable {
    return models.onDidChange(() => {
      const m = models.current;
      const key = readModelSettings().modelPath;
      if (!m || !key) return;
      const info = { ...this.info() };
      info[key] = infoOfFacts(m.facts, summarizeFolder(m.facts.dir).bytes || undefined);
      const recent = pushRecent(this.state.get<string[]>(RECENT_KEY, []), key);
      void this.state.update(RECENT_KEY, recent);
      const keep = new Set(recent);
      for (const k of Object.keys(info)) if (!keep.has(k)) delete info[k];
      void this.state.update(INFO_KEY, info);
    });
  }
}
