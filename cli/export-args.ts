// Parses `attention-lens export …` into checked options; every mistake becomes a one-line LensError that says
// what to change. The format comes from --format or, failing that, from the --out file's extension.
import { extname } from 'node:path';
import { INPUT_OPTIONS, inputArgs, TARGET_OPTIONS, targetArgs, type InputArgs, type TargetArgs } from './input-options';
import { bad, headOption, parseOptions, wholeNumber } from './parse-options';
import { isColorMapName, type ColorMapName } from '../figures/colormap';
import type { HeadChoice } from '../figures/run-maps';
import { EXPORT_VIEWS, PNG_SCALES, type ExportView } from '../figures/view-figure';

export type ExportFormat = 'png' | 'svg' | 'json' | 'csv' | 'npy';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['png', 'svg', 'json', 'csv', 'npy'];

export interface ExportArgs extends InputArgs, TargetArgs {
  view: ExportView;
  layer: number;
  head: HeadChoice;
  format: ExportFormat;
  scale: number;
  colorMap: ColorMapName;
  out: string;
}

export function parseExportArgs(argv: string[]): ExportArgs | 'help' {
  const v = parseOptions(argv, {
    ...INPUT_OPTIONS,
    ...TARGET_OPTIONS,
    view: { type: 'string' },
    layer: { type: 'string' },
    head: { type: 'string' },
    format: { type: 'string' },
    scale: { type: 'string' },
    'color-map': { type: 'string' },
    out: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (v.help) return 'help';
  const input = inputArgs(v);
  if (!v.out) throw bad('Missing --out FILE: say where to write the export (e.g. --out attention.png).');
  const view = (v.view ?? 'matrix') as ExportView;
  if (!EXPORT_VIEWS.includes(view)) throw bad(`Unknown --view "${v.view}"; use matrix, grid or head.`);
  const fromExt = extname(v.out).slice(1).toLowerCase();
  const format = (v.format ?? fromExt).toLowerCase() as ExportFormat;
  if (!EXPORT_FORMATS.includes(format)) {
    throw bad(
      v.format === undefined
        ? `Cannot tell the format from --out "${v.out}": give --format png|svg|json|csv|npy or an --out ending in one of them.`
        : `Unknown --format "${v.format}"; use png, svg, json, csv or npy.`,
    );
  }
  // The data formats hold every layer and head of the run: a view's choices would be silently ignored there.
  if (format === 'json' || format === 'csv' || format === 'npy')
    for (const flag of ['view', 'layer', 'head', 'color-map'] as const)
      if (v[flag] !== undefined)
        throw bad(
          `--${flag} applies to the png and svg views; ${format} holds every layer and head of the run: leave --${flag} out.`,
        );
  const layer = wholeNumber('layer', v.layer, 0, 10_000) ?? 0;
  const head: HeadChoice = headOption(v.head, ['mean', 'max'], 10_000) ?? 'mean';
  const scale = wholeNumber('scale', v.scale, 1, 4) ?? 1;
  if (!PNG_SCALES.includes(scale)) throw bad('--scale must be 1, 2, 3 or 4.');
  if (v.scale !== undefined && format !== 'png')
    throw bad('--scale applies to PNG only; leave it out for other formats.');
  const colorMap = v['color-map'] ?? 'viridis';
  if (!isColorMapName(colorMap)) throw bad(`Unknown --color-map "${colorMap}"; use viridis, magma, blues or greys.`);
  return {
    ...input,
    ...targetArgs(v),
    view,
    layer,
    head,
    format,
    scale,
    colorMap,
    out: v.out,
  };
}
