// What the export of a run kept for long inputs offers, decided without vscode (so unit tests check it): no map
// exists, so images are the matrix (the whole overview, or a window of it) or the model grid drawn from the
// layers' overviews and exact windows (writers/kept-export-maps.ts), and data is one head of one layer (or the mean
// or max of its heads, or a window of it) streamed by blocks of rows to the file (writers/attention-stream.ts) as
// NPY or CSV — never the whole run, never JSON (8,192² floats of one head is 256 MB as float32, gigabytes as text).
// The head view is drawn on the window the panel shows (±64 tokens around the chosen token, or a window asked for,
// at most KEPT_HEAD_MAX_TOKENS), its lines the window's exact weights; its data is the same window's square.
import { KEPT_VIEW_WINDOW, windowAround } from '../figures/head-figure';
import type { Span } from '../figures/heads';
import { headText } from '../figures/labels';
import { npyHeader } from '../writers/attention-data';
import type { HeadChoice } from './run-snapshot';

export type KeptExportFormat = 'png' | 'svg' | 'npy' | 'csv' | 'json';

export interface KeptExportArgs {
  format?: KeptExportFormat;
  view?: 'matrix' | 'grid' | 'head';
  layer?: number;
  head?: HeadChoice;
  window?: { rows: Span; cols: Span };
}

/** Tokens a side of a kept run's head view export at most (beyond, the rows are too thin for labels and lines). */
export const KEPT_HEAD_MAX_TOKENS = 1024;

export interface KeptExportPlan {
  /** The image's view (the neuron view has no image export, so its export is the matrix). */
  view: 'matrix' | 'grid' | 'head';
  layer: number;
  head: HeadChoice;
  window?: { rows: Span; cols: Span };
  /** "the matrix of layer 3, head 2 (rows 0–511, columns 0–511)". */
  viewText: string;
  /** One head's (or the heads' mean / max) rows × columns, as NPY [rows, cols] or CSV. */
  data: { rows: Span; cols: Span; npyBytes: number; values: number; text: string; fileTag: string };
}

/** Above this many tokens a window's rows × columns text is written with thousands separators. */
const fmt = (n: number) => n.toLocaleString('en-US');

/** The plan of an export of a kept run, or the one-line reason it is refused. */
export function planKeptExport(
  run: {
    tokens: number;
    layers: number;
    heads: number;
    layersDone: number;
    /** The panel's view; `window`: the matrix's zoomed window, or the head view's tokens (rows = cols). */
    view: { view: string; layer: number; head: HeadChoice; window?: { rows: Span; cols: Span } };
  },
  args: KeptExportArgs,
): KeptExportPlan | string {
  const n = run.tokens;
  if (args.format === 'json')
    return `JSON of a run of ${fmt(n)} tokens (kept for long inputs) would hold every map as text; export NPY or CSV of one head (streamed to the file), or use the CLI's \`attention-lens run --out FOLDER/\` for one NPY per layer.`;
  const view = args.view ?? (run.view.view === 'grid' ? 'grid' : run.view.view === 'head' ? 'head' : 'matrix');
  if (view === 'head') {
    // The window the panel's head view shows (or the one asked for; the first tokens when the panel shows another view).
    const shown = run.view.view === 'head' ? run.view.window : undefined;
    const asked = args.window ?? shown;
    if (asked && (asked.rows.start !== asked.cols.start || asked.rows.end !== asked.cols.end))
      return `The head view shows the same tokens on both sides: give a window whose rows and columns are equal (got rows ${asked.rows.start}..${asked.rows.end}, columns ${asked.cols.start}..${asked.cols.end}).`;
    if (asked && asked.rows.end - asked.rows.start > KEPT_HEAD_MAX_TOKENS)
      return `The head view of a run of ${fmt(n)} tokens (kept for long inputs) draws at most ${fmt(KEPT_HEAD_MAX_TOKENS)} tokens a side (asked ${fmt(asked.rows.end - asked.rows.start)}); export a smaller window, or the matrix.`;
    const w = asked?.rows ?? windowAround(0, n, KEPT_VIEW_WINDOW);
    args = { ...args, window: { rows: { ...w }, cols: { ...w } } };
  }
  const layer = args.layer ?? run.view.layer;
  const head = args.head ?? run.view.head;
  if (!(layer >= 0 && layer < run.layers)) return `Layer ${layer} is outside the model's ${run.layers} layers.`;
  if (layer >= run.layersDone)
    return `Layer ${layer} has not been computed yet (${run.layersDone} of ${run.layers}): wait for it, then export.`;
  if (typeof head === 'number' && !(head >= 0 && head < run.heads))
    return `Head ${head} is outside the layer's ${run.heads} heads.`;
  const w = args.window;
  for (const [name, s] of w
    ? ([
        ['rows', w.rows],
        ['columns', w.cols],
      ] as const)
    : [])
    if (!(Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end <= n && s.end > s.start))
      return `The window's ${name} ${s.start}..${s.end} must lie within the run's ${fmt(n)} tokens (start < end).`;
  const rows = w?.rows ?? { start: 0, end: n };
  const cols = w?.cols ?? { start: 0, end: n };
  const R = rows.end - rows.start;
  const C = cols.end - cols.start;
  const span = w ? ` (rows ${rows.start}–${rows.end - 1}, columns ${cols.start}–${cols.end - 1})` : '';
  const viewText =
    view === 'grid'
      ? 'the model grid (from the overviews)'
      : view === 'head'
        ? `the head view of layer ${layer}, ${headText(head)} (tokens ${rows.start}–${rows.end - 1} of ${fmt(n)})`
        : `the matrix of layer ${layer}, ${headText(head)}${span}`;
  const headTag = typeof head === 'number' ? `H${head}` : head;
  const windowTag =
    view === 'head' ? `-t${rows.start}-${rows.end}` : w ? `-r${rows.start}-${rows.end}-c${cols.start}-${cols.end}` : '';
  return {
    view,
    layer,
    head,
    ...(w ? { window: { rows, cols } } : {}),
    viewText,
    data: {
      rows,
      cols,
      npyBytes: npyHeader([R, C]).length + R * C * 4,
      values: R * C,
      text: `layer ${layer}, ${headText(head)}: ${fmt(R)} × ${fmt(C)}${span}`,
      fileTag: `L${layer}-${headTag}${windowTag}`,
    },
  };
}

/** The sidecar of a kept head's NPY: the array's layout and the tokens of its rows and columns. */
export function keptHeadSidecar(
  npyName: string,
  plan: KeptExportPlan,
  model: Record<string, unknown>,
  tokens: readonly { text: string; start: number | null; end: number | null; special: boolean }[],
): string {
  const { rows, cols } = plan.data;
  return (
    JSON.stringify(
      {
        format: 'attention-lens-npy-head',
        version: 1,
        array: {
          file: npyName,
          dtype: '<f4',
          shape: [rows.end - rows.start, cols.end - cols.start],
          axes: ['query', 'key'],
        },
        layer: plan.layer,
        head: plan.head,
        rows,
        cols,
        model,
        tokens: tokens.map((t, index) => ({ index, text: t.text, start: t.start, end: t.end, special: t.special })),
      },
      null,
      1,
    ) + '\n'
  );
}
