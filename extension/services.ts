// What every command module, the serializer, the settings watcher and the test API are given: the parts of the
// extension activate() builds once. A command is `register<Name>(services)` returning its registration.
import type * as vscode from 'vscode';
import type { RecordedChannel } from './output-log';
import type { HubToken } from './hub-token';
import type { ModelService } from './model-service';
import type { Notifier } from './notifier';
import type { Panels } from './panels';
import type { RecentModels } from './recent-models';
import type { RunActions } from './run-actions';
import type { RunLog } from './run-log';
import type { StatusBar } from './status-bar';

export interface Services {
  readonly context: vscode.ExtensionContext;
  /** The "Attention Lens" Output channel. */
  readonly log: RecordedChannel;
  /** Every run's outcome (the test API). */
  readonly runLog: RunLog;
  readonly notifier: Notifier;
  readonly status: StatusBar;
  readonly panels: Panels;
  readonly models: ModelService;
  readonly recent: RecentModels;
  readonly hubToken: HubToken;
  /** Tint, export and run lookups over the panels' runs. */
  readonly runActions: RunActions;
}
