// The Attention Lens panel's UI: tabs (model grid, head view, matrix, neuron view, and the Explain view), layer/head
// selection, run status; draws each layer as soon as it arrives (redraws coalesced with requestAnimationFrame).
// The Explain view is a tab of its own: it has its own controls and Export…, and the host's hover, tint and export
// keep following the attention view shown last.
// Every message from the host is validated (the channel's checks, protocol/panel-channel.ts); token text only ever
// reaches the DOM through textContent/fillText.
import './styles.css';
import type { HostMessage, VectorsRequest } from '../protocol/messages';
import { el } from './dom';
import { button, enable, select as controlSelect, setOptions } from './controls';
import { Store, VIEWS, type HeadChoice, type ViewName } from './store';
import { hostChannel, post, loadState, saveState } from './vscode-api';
import { serveInference } from './inference/bridge';
import type { View, ViewContext } from './views/context';
import { GridView } from './views/grid';
import { HeadView } from './views/head';
import { MatrixView } from './views/matrix';
import { NeuronView } from './views/neuron';
import { ExportControls } from './views/export-controls';
import { ExplainView } from './views/explain';
import { GenerateControls } from './views/generate-controls';
import { acceptDroppedRuns } from './drop';
import { setPageTop } from './paint/scene-canvas';
import { PendingExact } from '../figures/kept-run-maps';
import { targetCells, targetHeading, targetTotal } from './target-line';
import type { Span } from '../figures/heads';
import { KEPT_VIEW_WINDOW, windowAround } from '../figures/head-figure';

/** The tabs: the attention views, then the Explain view. */
type Tab = ViewName | 'explain';
const TABS: Tab[] = [...VIEWS, 'explain'];
const VIEW_TITLES: Record<Tab, string> = {
  grid: 'Model grid',
  head: 'Head view',
  matrix: 'Matrix',
  neuron: 'Neuron view',
  explain: 'Explain',
};

const store: Store = new Store({
  ask: async (layer, head, rows, cols): Promise<Float32Array> => {
    const runId: number | undefined = store.runId;
    if (runId === undefined) throw new Error('no run');
    const w = await channel.request('keptWindow', { runId, layer, head, rows, cols });
    return new Float32Array(w.data);
  },
  arrived: (layer) => {
    forEachView((v) => (v.exactArrived ? v.exactArrived(layer) : v.layerArrived(layer)));
    invalidate();
  },
  failed: (e) => report(e),
});
const persisted = loadState();
if (persisted.view && (VIEWS as string[]).includes(persisted.view)) store.view = persisted.view as ViewName;
/** The tab shown: store.view, or the Explain view. */
let tab: Tab = persisted.view === 'explain' ? 'explain' : store.view;
if (typeof persisted.layer === 'number') store.layer = persisted.layer;
if (persisted.head !== undefined) store.head = parseHead(persisted.head);
if (typeof persisted.query === 'number') store.query = persisted.query;

function parseHead(v: string): HeadChoice {
  if (v === 'mean' || v === 'max') return v;
  const n = Number(v);
  return Number.isInteger(n) && n >= 0 ? n : 'mean';
}

// ----- layout -------------------------------------------------------------------------------------------------
const app = document.getElementById('app') ?? document.body;
const tabs = el('div', { class: 'tabs', attrs: { role: 'tablist', 'aria-label': 'Views' } });
const tabButtons = new Map<Tab, HTMLButtonElement>();
for (const v of TABS) {
  const b = el('button', {
    class: 'tab',
    text: VIEW_TITLES[v],
    attrs: { 'data-view': v, role: 'tab', type: 'button' },
  });
  b.addEventListener('click', () => show(v));
  tabButtons.set(v, b);
  tabs.appendChild(b);
}
// The tab list's keys (WAI-ARIA tabs): arrows move to the next/previous tab (wrapping), Home/End to the first/last.
tabs.addEventListener('keydown', (e) => {
  const i = TABS.indexOf(tab);
  const next =
    e.key === 'ArrowRight'
      ? TABS[(i + 1) % TABS.length]
      : e.key === 'ArrowLeft'
        ? TABS[(i + TABS.length - 1) % TABS.length]
        : e.key === 'Home'
          ? TABS[0]
          : e.key === 'End'
            ? TABS[TABS.length - 1]
            : undefined;
  if (!next) return;
  show(next);
  tabButtons.get(next)?.focus();
  e.preventDefault();
});

const layerSelect = controlSelect('layer-select', 'Layer');
const headSelect = controlSelect('head-select', 'Head');
enable(layerSelect, false);
enable(headSelect, false);
layerSelect.addEventListener('change', () => select(Number(layerSelect.value), store.head));
headSelect.addEventListener('change', () => select(store.layer, parseHead(headSelect.value)));
const runStatus = el('span', {
  id: 'run-status',
  attrs: { role: 'status', 'aria-live': 'polite' },
  text: 'Waiting for a run…',
});
const cancelButton = button('cancel', 'Cancel', { secondary: true });
cancelButton.hidden = true;
cancelButton.addEventListener('click', () => {
  if (store.runId !== undefined && store.status === 'running') post({ type: 'cancel', runId: store.runId });
});
const exportControls = new ExportControls(store, post);
const notice = el('div', { id: 'notice', attrs: { role: 'alert' } });
notice.hidden = true;
// Encoder–decoder runs: the translation (or the given target), as text, then its tokens with their log-probabilities.
const translation = el('div', { id: 'translation', class: 'translation' });
translation.hidden = true;

/** Fills the target line from the store (text only: token texts are never markup). */
function showTarget(): void {
  const t = store.target;
  if (!t) return;
  const total = targetTotal(t);
  const heading = el('div', {
    class: 'translation-text',
    text: targetHeading(t) + (total !== undefined ? `  · log p ${total.toFixed(2)}` : ''),
  });
  const strip = el('div', { class: 'translation-tokens' });
  for (const c of targetCells(t))
    strip.append(
      el(
        'span',
        { class: 'translation-token', title: c.title },
        el('span', { class: 'translation-label', text: c.label }),
        el('span', { class: 'translation-logprob', text: c.value }),
      ),
    );
  translation.replaceChildren(heading, strip);
  translation.hidden = false;
}

const layerControl = el('label', { class: 'control', text: 'Layer ' }, layerSelect);
const headControl = el('label', { class: 'control', text: 'Head ' }, headSelect);
const toolbar = el(
  'div',
  { class: 'toolbar' },
  tabs,
  layerControl,
  headControl,
  runStatus,
  cancelButton,
  exportControls.root,
);
const viewHost = el('div', { class: 'views' });
app.append(toolbar, notice, translation, viewHost);
// The toolbar sticks to the panel's top: a table's header band stays in view below it (paint/scene-canvas.ts).
setPageTop(() => toolbar.getBoundingClientRect().bottom);
acceptDroppedRuns(document.body, post, (message) => post({ type: 'log', level: 'warn', message }));

// ----- views --------------------------------------------------------------------------------------------------
let frame = 0;
const channel = hostChannel();
const ctx: ViewContext = {
  store,
  post,
  request: (name, payload, options) => channel.request(name, payload, options),
  requestVectors(runId: number, layer: number, window?: VectorsRequest['window']) {
    channel.request('vectors', { runId, layer, ...(window ? { window } : {}) }).then(
      (v) => {
        if (v.runId !== store.runId) return;
        store.vectors.set(v.layer, v);
        neuron.vectorsArrived();
        invalidate();
      },
      (e: unknown) => report(e),
    );
  },
  invalidate,
  select,
  matrixWindow(w: { rows: Span; cols: Span } | null) {
    const same = (a: Span, b: Span) => a.start === b.start && a.end === b.end;
    if (w === matrixWindow || (w && matrixWindow && same(w.rows, matrixWindow.rows) && same(w.cols, matrixWindow.cols)))
      return;
    matrixWindow = w && { rows: { ...w.rows }, cols: { ...w.cols } };
    postView();
  },
  selectQuery(index: number) {
    if (index < 0 || index >= store.tokens.length) return;
    store.query = index;
    saveState({ query: index });
    if (store.runId !== undefined) post({ type: 'selectToken', runId: store.runId, index });
    if (store.view === 'head' && store.kept) postView(); // the head view's window moved
    exportControls.update();
    generate.update();
    forEachView((v) => v.selectionChanged());
    invalidate();
  },
  show,
};
const neuron = new NeuronView(ctx);
const views: Record<ViewName, View> = {
  grid: new GridView(ctx),
  head: new HeadView(ctx),
  matrix: new MatrixView(ctx),
  neuron,
};
const explain = new ExplainView(ctx, () => postTab());
for (const v of VIEWS) viewHost.appendChild(views[v].root);
viewHost.appendChild(explain.root);
// Continue: each generated token grows the run (every layer's map gains a row and a column); every view redraws.
const generate = new GenerateControls(
  ctx,
  () => {
    for (let l = 0; l < (store.facts?.layers ?? 0); l++) forEachView((v) => v.layerArrived(l));
    neuron.runStarted(); // its query list grows, and the vectors of the shorter run are gone
    forEachView((v) => v.selectionChanged());
    updateStatus();
    invalidate();
  },
  (n) => {
    show('explain');
    explain.explainTarget(`generated:${n}`);
  },
);
app.insertBefore(generate.outputRow, notice);
app.insertBefore(generate.root, generate.outputRow);

function forEachView(f: (v: View) => void): void {
  for (const v of [...VIEWS.map((name) => views[name]), explain]) {
    try {
      f(v);
    } catch (e) {
      // A kept run's exact values on their way: the views redraw when they arrive.
      if (!(e instanceof PendingExact)) report(e);
    }
  }
}

function invalidate(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    try {
      // The grid always keeps up (it is cheap and shows progress); the others draw when visible.
      views.grid.draw();
      if (tab === 'explain') explain.draw();
      else if (store.view !== 'grid') views[store.view].draw();
    } catch (e) {
      if (!(e instanceof PendingExact)) report(e);
    }
  });
}

function show(view: Tab): void {
  tab = view;
  if (view !== 'explain') store.view = view;
  for (const v of TABS) {
    const active = v === view;
    (v === 'explain' ? explain : views[v]).root.hidden = !active;
    tabButtons.get(v)?.setAttribute('aria-selected', String(active));
    tabButtons.get(v)?.classList.toggle('active', active);
    if (tabButtons.get(v)) tabButtons.get(v)!.tabIndex = active ? 0 : -1;
  }
  // The Explain view has its own layer/head choices and its own Export….
  layerControl.hidden = headControl.hidden = exportControls.root.hidden = view === 'explain';
  saveState({ view });
  postTab();
  if (view === 'explain') {
    explain.selectionChanged();
  } else {
    postView();
    views[view].selectionChanged();
  }
  invalidate();
}

function select(layer: number, head: HeadChoice): void {
  const facts = store.facts;
  if (facts) {
    if (!(layer >= 0 && layer < facts.layers)) return;
    if (typeof head === 'number' && !(head >= 0 && head < facts.heads)) return;
  }
  store.layer = layer;
  store.head = head;
  layerSelect.value = String(layer);
  headSelect.value = String(head);
  saveState({ layer, head: String(head) });
  postView();
  forEachView((v) => v.selectionChanged());
  invalidate();
}

/** Tells the host which tab is shown (the palette's Export… exports the Explain view's result when it is). */
function postTab(): void {
  const { mode, metric } = explain.shown;
  post({ type: 'tabChanged', tab, mode, metric });
}

/** Tells the host what the user looks at (the editor hover, tint and export follow the panel). */
function postView(): void {
  if (store.runId === undefined || !store.facts) return;
  // A kept run's head view shows a window around the chosen token: its export draws the same one.
  const headWindow =
    store.view === 'head' && store.kept ? windowAround(store.query, store.tokens.length, KEPT_VIEW_WINDOW) : null;
  const zoomed =
    store.view === 'matrix' && matrixWindow
      ? { window: matrixWindow }
      : headWindow
        ? { window: { rows: headWindow, cols: { ...headWindow } } }
        : {};
  post({ type: 'viewChanged', runId: store.runId, view: store.view, layer: store.layer, head: store.head, ...zoomed });
}

/** The matrix's zoomed window as last drawn (null: the whole map). */
let matrixWindow: { rows: Span; cols: Span } | null = null;

function fillSelects(): void {
  const facts = store.facts;
  if (!facts) {
    setOptions(layerSelect, [], '');
    setOptions(headSelect, [], '');
    return;
  }
  const layers = Array.from({ length: facts.layers }, (_, l) => ({
    value: String(l),
    label: `${l} (${facts.attentionKinds[l]})`,
  }));
  const heads = [
    { value: 'mean', label: 'mean of heads' },
    { value: 'max', label: 'max of heads' },
    ...Array.from({ length: facts.heads }, (_, h) => ({ value: String(h), label: `head ${h}` })),
  ];
  setOptions(layerSelect, layers, String(store.layer));
  setOptions(headSelect, heads, String(store.head));
  enable(layerSelect, true);
  enable(headSelect, true);
}

/** The host's "Loading <model>…" line while the model of the next run loads ('' when none). */
let busyText = '';

function updateStatus(): void {
  const facts = store.facts;
  if (facts && store.runId !== undefined) {
    const parts = [
      facts.name,
      store.promptLength !== undefined
        ? `${store.tokens.length} tokens (${store.promptLength} prompt + ${store.tokens.length - store.promptLength} generated)`
        : `${store.tokens.length} tokens`,
    ];
    if (store.truncatedFrom !== undefined) parts.push(`truncated from ${store.truncatedFrom}`);
    parts.push(`layers ${store.received}/${facts.layers}`);
    if (store.status === 'done')
      parts.push(store.totalMs !== undefined ? `done in ${Math.round(store.totalMs)} ms` : 'done');
    if (store.status === 'cancelled') parts.push('cancelled');
    if (store.status === 'failed') parts.push('failed');
    runStatus.textContent = parts.join(' · ');
    runStatus.dataset.state = store.status;
    cancelButton.hidden = store.status !== 'running';
    exportControls.update();
    generate.update();
  }
  if (busyText) {
    runStatus.textContent = busyText;
    runStatus.dataset.state = 'loading';
  }
}

function setNotice(text: string): void {
  notice.textContent = text;
  notice.hidden = text === '';
}

// ----- messages -----------------------------------------------------------------------------------------------
function report(e: unknown): void {
  const message = e instanceof Error ? `${e.message}\n${e.stack ?? ''}` : String(e);
  post({ type: 'log', level: 'error', message: message.slice(0, 3900) });
}

function handle(m: HostMessage): void {
  switch (m.type) {
    case 'settings':
      if (store.colorMap !== m.colorMap) {
        store.colorMap = m.colorMap;
        forEachView((v) => v.restyle());
        invalidate();
      }
      return;
    case 'notice':
      // A busy line (the model loading) goes to the status line, which is polite; anything else is an alert too.
      busyText = m.busy ? m.text : '';
      setNotice(m.busy ? '' : m.text);
      if (busyText || store.runId === undefined) {
        runStatus.textContent = m.text;
        runStatus.dataset.state = m.busy ? 'loading' : 'notice';
      } else updateStatus();
      return;
    case 'runStarted':
      busyText = '';
      store.reset(m.runId, m.tokens, m.facts, m.source, m.truncatedFrom, m.kept);
      saveState({ source: m.source });
      setNotice(
        m.truncatedFrom !== undefined
          ? `The input was truncated to ${m.tokens.length} of ${m.truncatedFrom} tokens.`
          : '',
      );
      fillSelects();
      postView();
      translation.hidden = true;
      translation.textContent = '';
      forEachView((v) => v.runStarted());
      generate.runStarted();
      forEachView((v) => v.selectionChanged());
      updateStatus();
      invalidate();
      return;
    case 'layer':
      if (m.runId !== store.runId) return;
      store.addLayer({
        layer: m.layer,
        kind: m.kind,
        heads: m.heads,
        queryLength: m.queryLength,
        keyLength: m.keyLength,
        data: new Float32Array(m.data),
      });
      forEachView((v) => v.layerArrived(m.layer));
      updateStatus();
      invalidate();
      return;
    case 'target':
      if (m.runId !== store.runId) return;
      store.setTarget(m.tokens, m.mode, m.text, m.end, m.logprobs, m.beams, m.decoderInput);
      showTarget();
      forEachView((v) => v.selectionChanged());
      invalidate();
      return;
    case 'targetStep': {
      if (m.runId !== store.runId) return;
      const rows = (bufs: ArrayBuffer[]) => bufs.map((b) => new Float32Array(b));
      if (!store.addTargetStep(m.index, m.token, m.logprob, m.text, rows(m.selfRows), rows(m.crossRows))) return;
      showTarget();
      const ed = store.facts?.encoderDecoder;
      if (ed)
        for (let l = ed.encoderLayers; l < ed.encoderLayers + 2 * ed.decoderLayers; l++)
          forEachView((v) => v.layerArrived(l));
      forEachView((v) => v.selectionChanged());
      invalidate();
      return;
    }
    case 'keptLayer': {
      if (m.runId !== store.runId) return;
      const first = !store.kept;
      store.addKeptLayer(m);
      if (first) postView(); // the head view's window, now that the run is known to be kept
      forEachView((v) => v.layerArrived(m.layer));
      updateStatus();
      invalidate();
      return;
    }
    case 'focusToken':
      if (m.runId === store.runId) ctx.selectQuery(m.index);
      return;
    case 'runFinished':
      if (m.runId !== store.runId) return;
      store.status = 'done';
      store.totalMs = m.timings?.totalMs;
      updateStatus();
      return;
    case 'runFailed':
      if (m.runId !== store.runId) return;
      store.status = m.cancelled ? 'cancelled' : 'failed';
      store.message = m.message;
      setNotice(m.message);
      updateStatus();
      return;
    case 'explainResult':
      explain.replayed(m);
      invalidate();
      return;
    case 'compareResult':
      explain.replayed(m);
      return;
  }
}

/** Every note the host sends (a new one is a type error until it is listed here). */
const HOST_NOTES: Record<HostMessage['type'], true> = {
  settings: true,
  notice: true,
  runStarted: true,
  layer: true,
  target: true,
  targetStep: true,
  keptLayer: true,
  focusToken: true,
  runFinished: true,
  runFailed: true,
  explainResult: true,
  compareResult: true,
};
for (const name of Object.keys(HOST_NOTES) as HostMessage['type'][]) {
  channel.on(name, (payload) => {
    try {
      handle({ ...payload, type: name } as HostMessage);
    } catch (e) {
      report(e);
    }
  });
}

// In-webview inference (backend webgpu/auto): the host's infer* requests, relayed to the inference worker; the views
// never see them.
serveInference(channel);

// Theme changes (VS Code swaps body classes): colours read from CSS variables must be redrawn.
new MutationObserver(() => {
  forEachView((v) => v.restyle());
  invalidate();
}).observe(document.body, { attributes: true, attributeFilter: ['class'] });
window.addEventListener('resize', () => {
  views.matrix.selectionChanged();
  views.grid.selectionChanged();
  explain.restyle();
  invalidate();
});
window.addEventListener('error', (e) => report(e.error ?? e.message));

show(tab);
post({ type: 'ready' });
