// Where the ONNX files of a model are: a single .onnx file, or a folder laid out as optimum or transformers.js
// export it (model.onnx, encoder_model.onnx + decoder_model.onnx, with a key/value cache as decoder_model_merged.onnx
// or decoder_with_past_model.onnx, or a decoder-only decoder_model.onnx, at the top or under onnx/; fp16 or quantized variants when there is no full-precision one — the order is candidates.ts's). The
// tokenizer and config.json are looked for beside the file, then in the folder above (transformers.js keeps them at
// the repository's top, the graphs under onnx/).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { ONNX_GRAPH_DIRS, onnxCandidates, pickOnnxCandidate } from './candidates';
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

/**
 * The layout for a .onnx file: a file of an encoder–decoder export (encoder_model*, decoder_model*,
 * decoder_model_merged*, decoder_with_past_model*) takes its partners beside it as the folder would
 * (candidates.ts's order, restricted to the file's variant and holding the file); any other file stands alone.
 */
export function layoutOfFile(file: string): OnnxLayout {
  const dir = path.dirname(file);
  const base = path.basename(file);
  const part = /^(?:encoder_model|decoder_model_merged|decoder_with_past_model|decoder_model)(.*)\.onnx$/.exec(base);
  if (part) {
    const variant = part[1];
    const at = (name: string) => path.join(dir, name);
    const picked = onnxCandidates().find(
      (c) =>
        c.encoder === `encoder_model${variant}.onnx` &&
        [c.model, c.encoder, c.step].includes(base) &&
        [c.model, c.encoder, c.step].every((f) => f === undefined || isFile(at(f))),
    );
    if (picked) {
      const layout: OnnxLayout = { model: at(picked.model), encoder: at(picked.encoder!), dir: modelDirOf(dir) };
      if (picked.step) layout.step = at(picked.step);
      return layout;
    }
  }
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
    if (picked.step) layout.step = at(picked.step);
    return layout;
  }
  for (const graphDir of ONNX_GRAPH_DIRS.map((d) => path.join(folder, d))) {
    let others: string[] = [];
    try {
      others = fs.readdirSync(graphDir).filter((f) => f.endsWith('.onnx'));
    } catch {
      continue;
    }
    if (others.some((f) => /^(decoder_model_merged|decoder_with_past_model)/.test(f))) {
      throw new LensError(
        'MODEL_NOT_FOUND',
        `${graphDir} has a key/value-cache decoder (decoder_model_merged or decoder_with_past_model) but no ` +
          'encoder_model.onnx (and decoder_model.onnx) beside it; a cache decoder opens only with its encoder: ' +
          'copy the whole export, or export without the cache (`optimum-cli export onnx --task text-generation`).',
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
