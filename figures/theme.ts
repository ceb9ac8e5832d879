// The colours and text metrics a figure is drawn with. Exports use PAPER (white, dark ink, masked cells hatched grey,
// DejaVu Sans); the panel builds its theme from VS Code's colour variables and measures text with its canvas
// (webview/paint/panel-theme.ts). A figure function takes the theme as an input, so the panel and the export lay
// out the same figure with their own colours.
import type { Rgb } from './scene';
import { estimateWidth } from './text-width';

export interface FigureTheme {
  background: Rgb;
  /** Text and marks. */
  ink: Rgb;
  /** Secondary text (axis ticks, legends' titles, notes). */
  muted: Rgb;
  /** Light rules (plot grids). */
  rule: Rgb;
  /** Frames of legends, plots and pending thumbnails. */
  frame: Rgb;
  /** Masked (causal, out-of-window) cells. */
  masked: Rgb;
  /** When set, masked regions are hatched with this colour over `masked`. */
  hatch: Rgb | null;
  /** The selected head or cell. */
  focus: Rgb;
  /** CSS font stack of all text. */
  fontFamily: string;
  /** Width of `text` at `size` px in that font. */
  measure(text: string, size: number): number;
}

/** Printed figures: exports (PNG, SVG), whatever the editor's theme. */
export const PAPER: FigureTheme = {
  background: [255, 255, 255],
  ink: [30, 30, 30],
  muted: [110, 110, 110],
  rule: [228, 228, 228],
  frame: [110, 110, 110],
  masked: [222, 222, 222],
  // Hatched: a flat grey alone reads as a weight on the greys and blues maps.
  hatch: [110, 110, 110],
  focus: [0, 120, 212],
  fontFamily: "'DejaVu Sans', 'Noto Sans', 'Helvetica Neue', Arial, sans-serif",
  measure: estimateWidth,
};
