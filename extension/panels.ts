// The extension's panels: every open Attention Lens panel, which one is active (the last focused or created), and the
// one a run goes to (the active panel, revealed, or a new one beside the editor). Each panel's events (layers
// received, a token picked, the view changed, Export pressed, closed) go to the listeners activate() wires in.
import * as vscode from 'vscode';
import { AttentionPanel, webviewOptions, type PanelHost } from './panel';
import { colorMapSetting } from './settings';

/** What the rest of the extension hears from the panels (PanelHost without what Panels keeps itself). */
export type PanelEvents = Omit<PanelHost, 'extensionUri' | 'log' | 'colorMap' | 'focused'>;

export class Panels {
  private readonly all = new Set<AttentionPanel>();
  private activePanel: AttentionPanel | undefined;
  private readonly host: PanelHost;

  constructor(extensionUri: vscode.Uri, log: vscode.OutputChannel, events: PanelEvents) {
    this.host = {
      extensionUri,
      log,
      colorMap: colorMapSetting,
      progress: (panel, received, total) => events.progress(panel, received, total),
      layerSent: (panel, runId, layer) => events.layerSent(panel, runId, layer),
      selectToken: (panel, index) => events.selectToken(panel, index),
      runChanged: (panel) => events.runChanged(panel),
      viewChanged: (panel) => events.viewChanged(panel),
      exportRequested: (panel) => events.exportRequested(panel),
      openDropped: (panel, dropped) => events.openDropped(panel, dropped),
      hold: (work) => events.hold(work),
      disposed: (panel) => {
        this.all.delete(panel);
        if (this.activePanel === panel) this.activePanel = [...this.all].pop();
        events.disposed(panel);
      },
      focused: (panel) => {
        this.activePanel = panel;
      },
    };
  }

  /** Every open panel. */
  list(): Iterable<AttentionPanel> {
    return this.all;
  }

  /** The last focused or created panel (possibly disposed a moment ago: check isDisposed). */
  active(): AttentionPanel | undefined {
    return this.activePanel;
  }

  /** The active panel if it is still open. */
  live(): AttentionPanel | undefined {
    return this.activePanel && !this.activePanel.isDisposed ? this.activePanel : undefined;
  }

  /** The panel a run shows in: the active one, revealed, or a new one beside the editor. */
  forRun(): AttentionPanel {
    const live = this.live();
    if (live) {
      live.reveal();
      return live;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    return this.adopt(AttentionPanel.create(this.host, column));
  }

  /** A panel VS Code restored after a reload (the serializer): it becomes the active one. */
  restore(webviewPanel: vscode.WebviewPanel): AttentionPanel {
    webviewPanel.webview.options = webviewOptions(this.host.extensionUri);
    return this.adopt(new AttentionPanel(webviewPanel, this.host));
  }

  /** Posts the display settings to every panel again (the colour map changed). */
  postSettings(): void {
    for (const p of this.all) p.postSettings();
  }

  /** An edit of a document: each panel's run follows it (stale when its analysed text changed). */
  documentChanged(e: vscode.TextDocumentChangeEvent): void {
    for (const p of this.all) p.documentChanged(e);
  }

  /** Cancels every panel's run in flight; true when there was one. */
  cancelAll(): boolean {
    let any = false;
    for (const p of this.all) any = p.cancel() || any;
    return any;
  }

  private adopt(panel: AttentionPanel): AttentionPanel {
    this.all.add(panel);
    this.activePanel = panel;
    return panel;
  }
}
