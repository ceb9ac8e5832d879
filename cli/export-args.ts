// Parses `attention-lens export …` into checked options; every mistake becomes a one-line LensError that says
// what to change. The format comes from --format or, failing that, from the --out file's extension.
import { parseArgs } from 'node:util';
import { extname } from 'node:path';
import type { BackendName } from '../runtime/types';
import { LensError } from '../runtime/errors';
import { INPUT_OPTIONS } from './input-options';
import { isColorMapName, type ColorMapName } from '../figures/colormap';
import type { HeadChoice } from '../figures/run-maps';
import { EXPORT_VIEWS, PNG_SCALES, type ExportView } from '../figures/view-figure';

export type ExportFormat = 'png' | 'svg' | 'json' | 'csv' | 'npy';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['png', 'svg', 'json', 'csv', 'npy'];

export interface ExportArgs {
  model: string;
  text?: string;
  file?: string;
  backend: BackendName | 'auto';
  threads?: number;
  truncate: boolean;
  view: ExportView;
  layer: number;
  head: HeadChoice;
  format: ExportFormat;
  scale: number;
  colorMap: ColorMapName;
  out: string;
}

const bad = (message: string) => new LensError('BAD_INPUT', message);

function intOption(name: string, v: string | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+$/.test(v.trim()) || !Number.isInteger(n) || n < min || n > max)
    throw bad(`--${name} must be a whole number from ${min} to ${max} (got "${v}").`);
  return n;
}

export function parseExportArgs(argv: string[]): ExportArgs | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        ...INPUT_OPTIONS,
        view: { type: 'string' },
        layer: { type: 'string' },
        head: { type: 'string' },
        format: { type: 'string' },
        scale: { type: 'string' },
        'color-map': { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    const msg = (e as Error).message.split('. ')[0].replace(/\.$/, '');
    throw bad(`${msg}. See \`attention-lens --help\`.`);
  }
  const v = parsed.values;
  if (v.help) return 'help';
  if (!v.model) throw bad('Missing --model: give a model folder, an .onnx file or a Hugging Face id (owner/name).');
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text to run with --text TEXT or --file PATH.');
  if (!v.out) throw bad('Missing --out FILE: say where to write the export (e.g. --out attention.png).');
  const backend = v.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'native' && backend !== 'wasm')
    throw bad(`Unknown --backend "${backend}"; use auto, native or wasm.`);
  const threads = v.threads === undefined ? undefined : intOption('threads', v.threads, 1, 256, 1);
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
  const layer = intOption('layer', v.layer, 0, 10_000, 0);
  let head: HeadChoice = 'mean';
  if (v.head !== undefined) {
    if (v.head === 'mean' || v.head === 'max') head = v.head;
    else head = intOption('head', v.head, 0, 10_000, 0);
  }
  const scale = intOption('scale', v.scale, 1, 4, 1);
  if (!PNG_SCALES.includes(scale)) throw bad('--scale must be 1, 2, 3 or 4.');
  if (v.scale !== undefined && format !== 'png')
    throw bad('--scale applies to PNG only; leave it out for other formats.');
  const colorMap = v['color-map'] ?? 'viridis';
  if (!isColorMapName(colorMap)) throw bad(`Unknown --color-map "${colorMap}"; use viridis, magma, blues or greys.`);
  return {
    model: v.model,
    text: v.text,
    file: v.file,
    backend,
    threads,
    truncate: v.truncate === true,
    view,
    layer,
    head,
    format,
    scale,
    colorMap,
    out: v.out,
  };
}
