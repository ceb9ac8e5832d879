// What every figure function shares: a scene under construction (SceneBuilder), the caption block (the figure's
// title line and the source sentence), the colour bar, the notes under a figure, the errors of a bad request, and the
// figure options that tell an exported figure (caption, notes, section titles) from the panel's (its toolbar and
// headings say those). DOM-free.
import { fitText } from './labels';
import { pieceLabel } from './token-display';
import type { FigureTheme } from './theme';
import type { HeadChoice, RunMaps } from './run-maps';
import type { Region, Rgb, Scene, SceneItem, Target, TextItem } from './scene';

export const LABEL_SIZE = 10;
export const CAPTION_SIZE = 12;
export const MARGIN = 16;

/** What a figure shows besides its content. */
export interface FigureOptions {
  /** The caption above (model, layer, head; the source sentence) and the notes below: exports. */
  caption: boolean;
  /** The source sentence, in the caption's second line (cut to the figure's width). */
  source?: string;
  /** Section titles inside composed figures (the panel has headings). */
  titles: boolean;
}

export const EXPORT_OPTIONS: FigureOptions = { caption: true, titles: true };
export const PANEL_OPTIONS: FigureOptions = { caption: false, titles: false };

/** A user mistake in a figure request (bad layer, head, scale...): the message says what to change. */
export class ExportError extends Error {
  override readonly name = 'ExportError';
}

export class SceneBuilder {
  readonly items: SceneItem[] = [];
  readonly regions: Region[] = [];
  readonly targets: Target[] = [];

  constructor(readonly theme: FigureTheme) {}

  text(
    x: number,
    y: number,
    text: string,
    role: string,
    o: Partial<Pick<TextItem, 'size' | 'color' | 'anchor' | 'vertical' | 'attrs'>> = {},
  ): TextItem {
    const t: TextItem = {
      kind: 'text',
      role,
      x,
      y,
      text,
      size: o.size ?? LABEL_SIZE,
      color: o.color ?? this.theme.ink,
      anchor: o.anchor ?? 'start',
      ...(o.vertical ? { vertical: true } : {}),
      ...(o.attrs ? { attrs: o.attrs } : {}),
    };
    this.items.push(t);
    return t;
  }

  rect(x: number, y: number, w: number, h: number, fill: Rgb | null, role: string, stroke?: Rgb): void {
    this.items.push({ kind: 'rect', role, x, y, w, h, fill, ...(stroke ? { stroke } : {}) });
  }

  width(text: string, size = LABEL_SIZE): number {
    return this.theme.measure(text, size);
  }

  /** The scene, `width` × `height` (rounded up). */
  scene(width: number, height: number, title: string, notes: string[]): Scene {
    return {
      width: Math.ceil(width),
      height: Math.ceil(height),
      background: this.theme.background,
      fontFamily: this.theme.fontFamily,
      title,
      notes,
      items: this.items,
      regions: this.regions,
      targets: this.targets,
    };
  }
}

/**
 * The caption at the figure's top left: its first line, and the source sentence below it cut to `width` (when the
 * options have one). Returns the y below it. Nothing without `options.caption`.
 */
export function caption(b: SceneBuilder, text: string, options: FigureOptions, width: number, y = MARGIN): number {
  if (!options.caption) return y;
  b.text(MARGIN, y + CAPTION_SIZE / 2, text, 'caption', { size: CAPTION_SIZE });
  y += CAPTION_SIZE + 4;
  const source = options.source?.replace(/\s+/g, ' ').trim();
  if (source) {
    const line = fitText(`“${source}”`, Math.max(width, 360), LABEL_SIZE, b.theme.measure);
    b.text(MARGIN, y + LABEL_SIZE / 2, line, 'source', { color: b.theme.muted });
    y += LABEL_SIZE + 4;
  }
  return y + 6;
}

/** The width the caption's first line needs (source sentences are cut to the figure instead). */
export function captionWidth(b: SceneBuilder, text: string, options: FigureOptions): number {
  return options.caption ? MARGIN + b.width(text, CAPTION_SIZE) : 0;
}

/**
 * A horizontal colour bar: `title  low [bar] high`, 12 px tall at (x, y), `cells` RGBA colours; returns its width
 * and height.
 */
export function colorBar(
  b: SceneBuilder,
  x: number,
  y: number,
  cells: Uint8ClampedArray,
  lowLabel: string,
  highLabel: string,
  title: string,
  role = 'legend',
): { width: number; height: number } {
  const steps = cells.length / 4;
  const cellW = 3;
  const height = 12;
  const mid = y + height / 2;
  // Whole pixels, so that the steps are as crisp as the cells they stand for.
  const barX = Math.round(x + (title ? b.width(title) + 8 : 0) + b.width(lowLabel) + 6);
  if (title) b.text(x, mid, title, 'legend', { color: b.theme.muted });
  b.text(barX - 6, mid, lowLabel, 'legend', { anchor: 'end' });
  b.items.push({ kind: 'image', role, x: barX, y, cellW, cellH: height, rows: 1, cols: steps, rgba: cells });
  b.rect(barX, y, steps * cellW, height, null, 'legend-frame', b.theme.frame);
  const endX = barX + steps * cellW + 6;
  b.text(endX, mid, highLabel, 'legend');
  return { width: endX + b.width(highLabel) - x, height };
}

/** The notes, one a line from `y` down (only with a caption: the panel says these in its own words). */
export function notesBlock(b: SceneBuilder, notes: string[], y: number, options: FigureOptions): [number, number] {
  let width = 0;
  if (!options.caption) return [y, width];
  for (const text of notes) {
    y += LABEL_SIZE;
    b.text(MARGIN, y, text, 'note', { color: b.theme.muted });
    width = Math.max(width, MARGIN + b.width(text));
    y += 4;
  }
  return [y, width];
}

/** Distinct head hues (as the head view draws them): h·360/n degrees, n = min(heads, 12). */
export function headColor(h: number, heads: number): Rgb {
  const n = Math.max(1, Math.min(heads, 12));
  return hslToRgb(Math.round(((h % n) * 360) / n), 0.7, 0.5);
}

/** CSS hsl() to 0..255 RGB. */
export function hslToRgb(hue: number, s: number, l: number): Rgb {
  const c = (1 - Math.abs(2 * l - 1)) * s;
  const hp = (((hue % 360) + 360) % 360) / 60;
  const x = c * (1 - Math.abs((hp % 2) - 1));
  const [r, g, b] =
    hp < 1 ? [c, x, 0] : hp < 2 ? [x, c, 0] : hp < 3 ? [0, c, x] : hp < 4 ? [0, x, c] : hp < 5 ? [x, 0, c] : [c, 0, x];
  const m = l - c / 2;
  return [Math.round((r + m) * 255), Math.round((g + m) * 255), Math.round((b + m) * 255)];
}

/** Checks layer and head against the run; the message says the valid range. */
export function checkLayerHead(maps: RunMaps, layer: number, head: HeadChoice, needLayer = true): void {
  const layers = maps.layerCount;
  if (!Number.isInteger(layer) || layer < 0 || layer >= layers)
    throw new ExportError(`Layer ${layer} does not exist: the model has ${layers} layers (0–${layers - 1}).`);
  if (typeof head === 'number' && (!Number.isInteger(head) || head < 0 || head >= maps.headCount))
    throw new ExportError(
      `Head ${head} does not exist: the model has ${maps.headCount} heads (0–${maps.headCount - 1}), or use mean or max.`,
    );
  if (needLayer && !maps.shape(layer))
    throw new ExportError(`Layer ${layer} has not been computed yet: wait for the run to reach it.`);
}

/** The label of token i of a map side of `length` tokens (`#i` when the side is not the run's tokens): its `label`
 *  (figures/token-display.ts, from the source text) or the piece with whitespace glyphs. */
export function tokenText(maps: Pick<RunMaps, 'tokens'>, i: number, length: number): string {
  if (length !== maps.tokens.length) return `#${i}`;
  const t = maps.tokens[i];
  return t.label ?? pieceLabel(t.text);
}

/** A token's tooltip: its index and label, and the raw vocabulary piece where the label differs from it. */
export function tokenTitle(maps: Pick<RunMaps, 'tokens'>, i: number, length: number): string {
  const label = tokenText(maps, i, length);
  const raw = length === maps.tokens.length ? maps.tokens[i].text : label;
  const made = isGeneratedToken(maps, i, length) ? ' · generated' : '';
  return raw === label ? `${i}: ${label}${made}` : `${i}: ${label} (piece ${JSON.stringify(raw)})${made}`;
}

/** True for a token the model generated after the input: its label is drawn in the focus ink, so that prompt and
 * output are told apart. */
export function isGeneratedToken(maps: Pick<RunMaps, 'tokens'>, i: number, length: number): boolean {
  return length === maps.tokens.length && maps.tokens[i].generated === true;
}

/** The ink and data attributes of a token's label: dimmer for a chat template's tokens, the focus ink for generated
 * ones (data-template / data-generated say which). */
export function tokenInk(
  maps: Pick<RunMaps, 'tokens'>,
  i: number,
  length: number,
  theme: { muted: Rgb; focus: Rgb },
): { color?: Rgb; attrs: Record<string, string> } {
  if (isTemplateToken(maps, i, length)) return { color: theme.muted, attrs: { 'data-template': 'true' } };
  if (isGeneratedToken(maps, i, length)) return { color: theme.focus, attrs: { 'data-generated': 'true' } };
  return { attrs: {} };
}

/** The number of tokens before the first generated one, or undefined when the run has none. */
export function promptLengthOf(maps: RunMaps): number | undefined {
  const i = maps.tokens.findIndex((t) => t.generated === true);
  return i >= 0 ? i : undefined;
}

/** True for a token a chat template wrote (role markers, special tokens): its label is drawn dimmer. */
export function isTemplateToken(maps: Pick<RunMaps, 'tokens'>, i: number, length: number): boolean {
  return length === maps.tokens.length && maps.tokens[i].template === true;
}
