// Neuron view: for one query token, layer and head, the query vector, every key vector, q·k, the score (q·k/√d, or
// the model's own scale and soft-cap from its facts) and the softmax (causal and sliding-window keys masked) — next
// to the attention the run returned, so that the user sees how the weights arise. The vectors are
// requested from the host, which computes them for that layer on first request (a pass with RunOptions.withVectors).
import { el, clear } from '../dom';
import { select, setOptions } from '../controls';
import { neuronScores } from '../neuron-scores';
import { diverging } from '../../figures/colormap';
import { formatSig } from '../../figures/labels';
import type { View, ViewContext } from './context';

export class NeuronView implements View {
  readonly root = el('div', { class: 'view neuron-view', attrs: { role: 'tabpanel', 'aria-label': 'Neuron view' } });
  private querySelect = select('neuron-query', 'Query token');
  private caption = el('div', { class: 'neuron-caption' });
  private body = el('div', { class: 'neuron-body' });
  private requested = new Set<string>();
  private dirty = true;

  constructor(private ctx: ViewContext) {
    const label = el('label', { text: 'Query token ' }, this.querySelect);
    this.querySelect.addEventListener('change', () => this.ctx.selectQuery(Number(this.querySelect.value)));
    this.root.append(el('div', { class: 'neuron-controls' }, label, this.caption), this.body);
  }

  runStarted(): void {
    this.requested.clear();
    const { store } = this.ctx;
    const options = store.tokens.map((t, i) => ({ value: String(i), label: `${i}: ${t.label}` }));
    setOptions(this.querySelect, options, String(store.query));
    this.dirty = true;
  }

  layerArrived(layer: number): void {
    if (layer === this.ctx.store.layer) this.dirty = true;
  }

  selectionChanged(): void {
    this.dirty = true;
  }

  restyle(): void {
    this.dirty = true;
  }

  /** The host answered a vectors request (store.vectors has the layer). */
  vectorsArrived(): void {
    this.dirty = true;
  }

  draw(): void {
    if (!this.dirty) return;
    this.dirty = false;
    const { store } = this.ctx;
    clear(this.body);
    if (store.runId === undefined || !store.facts) {
      this.caption.textContent = 'No run yet.';
      return;
    }
    if (this.querySelect.value !== String(store.query)) this.querySelect.value = String(store.query);
    const head = typeof store.head === 'number' ? store.head : 0;
    const headNote = typeof store.head === 'number' ? '' : ' (choose a single head; showing head 0)';
    this.caption.textContent = `Layer ${store.layer}, head ${head}${headNote}`;
    if (store.kept) {
      this.body.appendChild(
        el('p', {
          class: 'neuron-note',
          text: `The neuron view is not available for runs of ${store.tokens.length} tokens (kept for long inputs) yet.`,
        }),
      );
      return;
    }
    const layer = store.layers[store.layer];
    if (!layer) {
      this.body.appendChild(el('p', { class: 'neuron-note', text: 'Waiting for this layer…' }));
      return;
    }
    const v = store.vectors.get(store.layer);
    if (!v) {
      const key = `${store.runId}:${store.layer}`;
      if (!this.requested.has(key)) {
        this.requested.add(key);
        this.ctx.requestVectors(store.runId, store.layer);
      }
      this.body.appendChild(el('p', { class: 'neuron-note', text: 'Loading query and key vectors…' }));
      return;
    }
    if (!v.q || !v.k) {
      this.body.appendChild(
        el('p', { class: 'neuron-note', text: v.reason ?? 'Query/key vectors are not available for this run.' }),
      );
      return;
    }
    const d = v.headDim;
    const q = new Float32Array(v.q);
    const k = new Float32Array(v.k);
    const group = Math.max(1, Math.round(v.heads / v.kvHeads));
    const kvHead = Math.min(v.kvHeads - 1, Math.floor(head / group));
    const qi = Math.min(store.query, v.queryLength - 1);
    const qVec = q.subarray((head * v.queryLength + qi) * d, (head * v.queryLength + qi + 1) * d);
    const keys = Array.from({ length: v.keyLength }, (_, j) =>
      k.subarray((kvHead * v.keyLength + j) * d, (kvHead * v.keyLength + j + 1) * d),
    );
    const causal = layer.kind === 'causal';
    const facts = store.facts;
    const win = facts?.slidingWindows?.[store.layer] ?? null;
    const isMasked = (j: number) => (causal && j > qi) || (win !== null && qi - j >= win);
    const rule = { scale: facts?.attentionScale, softcap: facts?.attentionSoftcap };
    const s = neuronScores(qVec, keys, d, isMasked, rule);
    let scale = 1e-12;
    for (const x of qVec) scale = Math.max(scale, Math.abs(x));
    for (const kv of keys) for (const x of kv) scale = Math.max(scale, Math.abs(x));

    const tokens = store.tokens;
    this.body.appendChild(
      el(
        'div',
        { class: 'neuron-q' },
        el('span', { class: 'neuron-label', text: `q (${tokens[qi]?.label ?? qi})` }),
        this.strip(qVec, scale),
      ),
    );
    // data-query, data-layer, data-head: which row of which head the table shows (tests wait for the one they set).
    const table = el('table', {
      class: 'neuron-table',
      attrs: { 'data-query': String(qi), 'data-layer': String(store.layer), 'data-head': String(head) },
    });
    const head$ = el('tr');
    const scoreLabel =
      (rule.scale === undefined ? 'q·k/√d' : `q·k × ${rule.scale.toPrecision(4)}`) +
      (rule.softcap ? `, capped (${rule.softcap}·tanh(s/${rule.softcap}))` : '');
    for (const t of ['key', 'k', 'q·k', scoreLabel, 'softmax', 'attention (run)'])
      head$.appendChild(el('th', { text: t }));
    table.appendChild(el('thead', {}, head$));
    const tbody = el('tbody');
    for (let j = 0; j < v.keyLength; j++) {
      const masked = isMasked(j);
      const att = store.maps.value(store.layer, head, qi, j); // the maps read a grown (Continue) layer in place
      const tr = el('tr', { class: masked ? 'masked' : '' });
      tr.append(
        el('td', { class: 'neuron-token', text: tokens[j]?.label ?? String(j), title: tokens[j]?.text ?? '' }),
        el('td', { class: 'vector' }, this.strip(keys[j], scale)),
        el('td', { class: 'num', text: formatSig(s.dot[j]), title: String(s.dot[j]) }),
        el('td', { class: 'num', text: masked ? 'masked' : formatSig(s.scaled[j]), title: String(s.scaled[j]) }),
        el('td', { class: 'num', text: formatSig(s.softmax[j]), title: String(s.softmax[j]) }),
        el('td', { class: 'num', text: formatSig(att), title: String(att) }),
      );
      tbody.appendChild(tr);
    }
    table.appendChild(tbody);
    // The table scrolls inside the panel under its sticky header row (a long input's hundreds of keys).
    this.body.appendChild(el('div', { class: 'neuron-table-scroll', attrs: { tabindex: '0' } }, table));
  }

  /** A vector as a strip of cells (diverging colours, scaled by the largest magnitude in view). */
  private strip(v: Float32Array, scale: number): HTMLCanvasElement {
    const c = el('canvas', { class: 'vector-strip' });
    c.width = v.length;
    c.height = 1;
    const g = c.getContext('2d');
    if (g) {
      const img = new ImageData(v.length, 1);
      for (let i = 0; i < v.length; i++) {
        const [r, gg, b] = diverging(v[i] / scale);
        img.data.set([r, gg, b, 255], i * 4);
      }
      g.putImageData(img, 0, 0);
    }
    return c;
  }
}
