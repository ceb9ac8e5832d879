// Where the ONNX files of a model are: a single .onnx file, or a folder laid out as optimum or transformers.js
// export it (model.onnx, encoder_model.onnx + decoder_model.onnx, or a decoder-only decoder_model.onnx, at the top or
// under onnx/; fp16 or quantized variants when there is no full-precision one — the order is candidates.ts's). The
// tokenizer and config.json are looked for beside the file, then in the folder above (transformers.js keeps them at
// the repository's top, the graphs under onnx/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { ONNX_GRAPH_DIRS, pickOnnxCandidate } from './candidates';
import type { OnnxLayout } from './layout';

export type { OnnxLayout } from './layout';

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

const hasTokenizer = (dir: string) =>
  ['tokenizer.json', 'vocab.txt', 'vocab.json', 'config.json'].some((f) => isFile(path.join(dir, f)));

/** The folder holding the tokenizer and config for graphs in `graphDir`. */
function modelDirOf(graphDir: string): string {
  if (hasTokenizer(graphDir)) return graphDir;
  const parent = path.dirname(graphDir);
  return parent !== graphDir && hasTokenizer(parent) ? parent : graphDir;
}

/** The layout for a .onnx file: an encoder_model*.onnx file takes its decoder_model*.onnx partner, and back. */
export function layoutOfFile(file: string): OnnxLayout {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const enc = /^encoder_model(.*)\.onnx$/.exec(base);
  const dec = /^decoder_model(.*)\.onnx$/.exec(base);
  if (dec && /merged/.test(dec[1]) === false && isFile(path.join(dir, `encoder_model${dec[1]}.onnx`)))
    return { model: file, encoder: path.join(dir, `encoder_model${dec[1]}.onnx`), dir: modelDirOf(dir) };
  if (enc && isFile(path.join(dir, `decoder_model${enc[1]}.onnx`)))
    return { model: path.join(dir, `decoder_model${enc[1]}.onnx`), encoder: file, dir: modelDirOf(dir) };
  return { model: file, dir: modelDirOf(dir) };
}

/** The ONNX layout of a folder, or undefined when it has no .onnx graphs (at the top or under onnx/). */
export function findOnnxInFolder(folder: string): OnnxLayout | undefined {
  const at = (relative: string) => path.join(folder, ...relative.split('/'));
  const picked = pickOnnxCandidate((relative) => isFile(at(relative)));
  if (picked) {
    const model = at(picked.model);
    const layout: OnnxLayout = { model, dir: modelDirOf(path.dirname(model)) };
    if (picked.encoder) layout.encoder = at(picked.encoder);
    return layout;
  }
  for (const graphDir of ONNX_GRAPH_DIRS.map((d) => path.join(folder, d))) {
    let others: string[] = [];
    try {
      others = fs.readdirSync(graphDir).filter((f) => f.endsWith('.onnx'));
    } catch {
      continue;
    }
    if (others.some((f) => /^decoder_model_merged/.test(f))) {
      throw new LensError(
        'FUSED_ATTENTION',
        `${graphDir} has only a merged decoder (decoder_model_merged*.onnx), which keeps its layers inside If ` +
          'subgraphs whose attention cannot be exposed. Export without the cache (`optimum-cli export onnx --task ' +
          'text-generation`, not -with-past) or open the Hugging Face folder (config.json + model.safetensors).',
      );
    }
    if (others.length === 1) return { model: path.join(graphDir, others[0]), dir: modelDirOf(graphDir) };
    if (others.length > 1) {
      throw new LensError(
        'MODEL_NOT_FOUND',
        `${graphDir} has several .onnx files (${others.slice(0, 4).join(', ')}); choose one of them as the model.`,
      );
    }
  }
  return undefined;
}
