// The panel toolbar's export controls: an "Export…" button (the host then asks for the format — PNG, SVG, JSON,
// CSV, NPY — and where to save; the webview never writes files) and a note of the selected token, which the editor
// tint and the hover's "Show in panel" link follow.
import { el } from '../dom';
import { button } from '../controls';
import type { Store } from '../store';
import type { WebviewMessage } from '../types';

export class ExportControls {
  readonly button = button('export', 'Export…', {
    secondary: true,
    title: 'Export this view as PNG or SVG, or the run as JSON, CSV or NPY',
  });
  readonly selected = el('span', {
    id: 'selected-token',
    title:
      'The selected query token: the editor tint, the hover\'s "Show in panel" and the neuron view follow it. ' +
      'Click a token in the head view or a row of the matrix to change it.',
    attrs: { 'aria-live': 'polite' },
  });
  readonly root = el('span', { class: 'export-controls' }, this.selected, this.button);

  constructor(
    private readonly store: Store,
    post: (m: WebviewMessage) => void,
  ) {
    this.button.disabled = true;
    this.button.addEventListener('click', () => {
      if (this.store.runId !== undefined) post({ type: 'export', runId: this.store.runId });
    });
  }

  /** Enables the button once a layer has arrived; shows the selected token (text only, via textContent). */
  update(): void {
    const { store } = this;
    this.button.disabled = store.runId === undefined || store.received === 0;
    const t = store.runId !== undefined ? store.tokens[store.query] : undefined;
    this.selected.textContent = t ? `Query token ${store.query}: ${t.label}` : '';
    this.selected.dataset.index = t ? String(store.query) : '';
  }
}
