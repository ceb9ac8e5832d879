// Which .onnx files of an export folder make the model, in the order Attention Lens prefers them, as paths relative
// to the folder (optimum writes them at the top, transformers.js under onnx/). One list serves both the folder on
// disk (locate.ts) and a Hub repository's file listing (hub/file-selection.ts), so a download picks exactly what
// opening the folder will use. Full precision first, then fp16 and the quantized variants; per variant an
// encoder + decoder pair, a single model.onnx, then a decoder alone (a decoder-only export's decoder_model.onnx).
// Merged decoders (decoder_model_merged*.onnx) and cache graphs (decoder_with_past*) are never candidates: their
// layers sit inside If subgraphs or need a key/value cache.

/** Variant suffixes, preferred first. */
export const ONNX_VARIANTS = ['', '_fp16', '_quantized', '_int8', '_uint8'];
/** Where the graphs may be, relative to the model's folder. */
export const ONNX_GRAPH_DIRS = ['', 'onnx/'];

export interface OnnxCandidate {
  /** The graph to run (or the decoder of a pair), relative to the model's folder, '/'-separated. */
  model: string;
  /** The encoder of an encoder-decoder pair. */
  encoder?: string;
}

/** Every candidate layout, preferred first. */
export function onnxCandidates(): OnnxCandidate[] {
  const out: OnnxCandidate[] = [];
  for (const v of ONNX_VARIANTS) {
    for (const d of ONNX_GRAPH_DIRS) {
      out.push({ model: `${d}decoder_model${v}.onnx`, encoder: `${d}encoder_model${v}.onnx` });
      out.push({ model: `${d}model${v}.onnx` });
      out.push({ model: `${d}decoder_model${v}.onnx` });
    }
  }
  return out;
}

/** The first candidate whose files all exist. */
export function pickOnnxCandidate(exists: (relative: string) => boolean): OnnxCandidate | undefined {
  return onnxCandidates().find((c) => exists(c.model) && (c.encoder === undefined || exists(c.encoder)));
}
