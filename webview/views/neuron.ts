// Neuron view: for one query token, layer and head, the query vector, every key vector, q·k, the score (q·k/√d, or
// the model's own scale and soft-cap from its facts) and the softmax (causal and sliding-window keys masked) — next
// to the attention the run returned, so that the user sees how the weights arise. The vectors are
// requested from the host, which computes them for that layer on first request (a pass with RunOptions.withVectors).
// A run kept for long inputs shows one query token's row on a window of keys around it (webview/kept-maps.ts
// KEPT_VIEW_WINDOW): its q, the window's k and the row's log-sum-exp come from what the worker keeps (float32), so the
// softmax column is the row's own weights, next to the exact weights the host computes for the window.
import { el, clear } from '../dom';
import { select, setOptions } from '../controls';
import { neuronScores } from '../neuron-scores';
import { diverging } from '../../figures/colormap';
import { formatSig } from '../../figures/labels';
import { windowAround } from '../../figures/head-figure';
import { PendingExact } from '../../figures/kept-run-maps';
import { KEPT_VIEW_WINDOW } from '../kept-maps';
import type { View, ViewContext } from './context';

export class NeuronView implements View {
  readonly root = el('div', { class: 'view neuron-view', attrs: { role: 'tabpanel', 'aria-label': 'Neuron view' } });
  private querySelect = select('neuron-query', 'Query token');
  private caption = el('div', { class: 'neuron-caption' });
  private body = el('div', { class: 'neuron-body' });
  private requested = new Set<string>();
  private lastWindow: string | undefined;
  private dirty = true;
  /** The tokens the query list offers, [start, end). */
  private listed = { start: 0, end: 0 };

  constructor(private ctx: ViewContext) {
    const label = el('label', { text: 'Query token ' }, this.querySelect);
    this.querySelect.addEventListener('change', () => this.ctx.selectQuery(Number(this.querySelect.value)));
    this.root.append(el('div', { class: 'neuron-controls' }, label, this.caption), this.body);
  }

  runStarted(): void {
    this.requested.clear();
    this.lastWindow = undefined;
    this.fillQueries();
    this.dirty = true;
  }

  /** The query list: every token, or for a kept run the window around the chosen token (as the view's keys). 8,192
   * options were the bulk of a kept run's start (the dropdown renders each: ~1 s on one core); a window's 258 are
   * listed again around the token whenever it leaves them (draw). */
  private fillQueries(): void {
    const { store } = this.ctx;
    const n = store.tokens.length;
    const span = store.kept ? windowAround(store.query, n, KEPT_VIEW_WINDOW) : { start: 0, end: n };
    this.listed = span;
    const options = [];
    for (let i = span.start; i < span.end; i++)
      options.push({ value: String(i), label: `${i}: ${store.tokens[i].label}` });
    setOptions(this.querySelect, options, String(store.query));
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
    if (store.query < this.listed.start || store.query >= this.listed.end) this.fillQueries();
    else if (this.querySelect.value !== String(store.query)) this.querySelect.value = String(store.query);
    const head = typeof store.head === 'number' ? store.head : 0;
    const headNote = typeof store.head === 'number' ? '' : ' (choose a single head; showing head 0)';
    this.caption.textContent = `Layer ${store.layer}, head ${head}${headNote}`;
    const n = store.tokens.length;
    // A kept run (long inputs): one query token's row on a window of keys around it, from what the worker keeps.
    const win = store.kept ? windowAround(store.query, n, KEPT_VIEW_WINDOW) : null;
    const shape = store.maps.shape(store.layer);
    const layer = store.layers[store.layer];
    if (!shape || (!win && !layer)) {
      this.body.appendChild(el('p', { class: 'neuron-note', text: 'Waiting for this layer…' }));
      return;
    }
    const v = store.vectors.get(store.layer);
    const fits =
      !win ||
      (v?.window !== undefined &&
        v.window.query === store.query &&
        v.window.keyStart === win.start &&
        v.keyLength === win.end - win.start);
    if (!v || !fits) {
      // A layer's vectors once per run; a kept run's window whenever it is not the one asked for last.
      const key = `${store.runId}:${store.layer}:${win ? `${store.query}:${win.start}:${win.end}` : ''}`;
      if (win ? this.lastWindow !== key : !this.requested.has(key)) {
        this.requested.add(key);
        this.lastWindow = win ? key : undefined;
        this.ctx.requestVectors(
          store.runId,
          store.layer,
          win ? { query: store.query, keys: { start: win.start, end: win.end } } : undefined,
        );
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
    const qi = win ? store.query : Math.min(store.query, v.queryLength - 1);
    // q's row in what came: the window's one query, or row qi of every query.
    const qRow = win ? 0 : qi;
    const qVec = q.subarray((head * v.queryLength + qRow) * d, (head * v.queryLength + qRow + 1) * d);
    // Keys [first, first + keyLength): the whole row, or the window.
    const first = win ? win.start : 0;
    const keys = Array.from({ length: v.keyLength }, (_, j) =>
      k.subarray((kvHead * v.keyLength + j) * d, (kvHead * v.keyLength + j + 1) * d),
    );
    const { causal, window: sliding } = shape.mask;
    const isMasked = (j: number) => (causal && first + j > qi) || (sliding !== null && qi - (first + j) >= sliding);
    const facts = store.facts;
    const rule = { scale: facts?.attentionScale, softcap: facts?.attentionSoftcap };
    const s = neuronScores(qVec, keys, d, isMasked, rule, win ? v.window!.lse[head] : undefined);
    // The run's own weights: the layer's map, or a kept run's exact row over the window (asked of the host).
    let run: (j: number) => number | undefined;
    if (win) {
      let row: Float32Array | undefined;
      try {
        row = store.maps.window(store.layer, head, { start: qi, end: qi + 1 }, win); // [1, keys]
      } catch (e) {
        if (!(e instanceof PendingExact)) throw e;
      }
      run = (j) => row?.[j];
      this.body.appendChild(
        el('p', {
          class: 'neuron-note neuron-window-note',
          text:
            `Showing keys ${win.start}–${win.end - 1} of ${n} around ‹${store.tokens[qi]?.label ?? qi}› ` +
            `(a long input): the softmax is over every key of the row (exp(score − log-sum-exp of the whole row)), ` +
            `so it equals the run's weights.`,
        }),
      );
    } else {
      run = (j) => store.maps.value(store.layer, head, qi, j); // the maps read a grown (Continue) layer in place
    }
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
    // data-query, data-layer, data-head: which row of which head the table shows (tests wait for the one they set);
    // data-first: the first key's position (a long run's window).
    const table = el('table', {
      class: 'neuron-table',
      attrs: {
        'data-query': String(qi),
        'data-layer': String(store.layer),
        'data-head': String(head),
        'data-first': String(first),
      },
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
      const att = run(j);
      const t = tokens[first + j];
      const tr = el('tr', { class: masked ? 'masked' : '', attrs: { 'data-key': String(first + j) } });
      tr.append(
        el('td', { class: 'neuron-token', text: t?.label ?? String(first + j), title: t?.text ?? '' }),
        el('td', { class: 'vector' }, this.strip(keys[j], scale)),
        el('td', { class: 'num', text: formatSig(s.dot[j]), title: String(s.dot[j]) }),
        el('td', { class: 'num', text: masked ? 'masked' : formatSig(s.scaled[j]), title: String(s.scaled[j]) }),
        el('td', { class: 'num', text: formatSig(s.softmax[j]), title: String(s.softmax[j]) }),
        att === undefined
          ? el('td', { class: 'num pending', text: 'computing…' })
          : el('td', { class: 'num', text: formatSig(att), title: String(att) }),
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
