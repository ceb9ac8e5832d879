// Which .onnx files of an export folder make the model, in the order Attention Lens prefers them, as paths relative
// to the folder (optimum writes them at the top, transformers.js under onnx/). One list serves both the folder on
// disk (locate.ts) and a Hub repository's file listing (hub/file-selection.ts), so a download picks exactly what
// opening the folder will use. Full precision first, then fp16 and the quantized variants; per variant an
// encoder–decoder with a key/value cache — the encoder + optimum's merged decoder (decoder_model_merged*.onnx: one
// file gives both the first pass and the cached steps, so a download takes one decoder's weights, not two), then
// the encoder + decoder_model + decoder_with_past_model — then an encoder + decoder pair without a cache, a single
// model.onnx, then a decoder alone (a decoder-only export's decoder_model.onnx). A merged decoder or a cache step
// without an encoder (a decoder-only export with a cache) is never a candidate.

/** Variant suffixes, preferred first. */
export const ONNX_VARIANTS = ['', '_fp16', '_quantized', '_int8', '_uint8'];
/** Where the graphs may be, relative to the model's folder. */
export const ONNX_GRAPH_DIRS = ['', 'onnx/'];

export interface OnnxCandidate {
  /** The graph to run (or the decoder of a pair), relative to the model's folder, '/'-separated. */
  model: string;
  /** The encoder of an encoder-decoder pair. */
  encoder?: string;
  /** The key/value-cached step decoder (decoder_with_past_model*.onnx) beside `model`. */
  step?: string;
}

/** Every candidate layout, preferred first. */
export function onnxCandidates(): OnnxCandidate[] {
  const out: OnnxCandidate[] = [];
  for (const v of ONNX_VARIANTS) {
    for (const d of ONNX_GRAPH_DIRS) {
      const encoder = `${d}encoder_model${v}.onnx`;
      out.push({ model: `${d}decoder_model_merged${v}.onnx`, encoder });
      out.push({ model: `${d}decoder_model${v}.onnx`, encoder, step: `${d}decoder_with_past_model${v}.onnx` });
      out.push({ model: `${d}decoder_model${v}.onnx`, encoder });
      out.push({ model: `${d}model${v}.onnx` });
      out.push({ model: `${d}decoder_model${v}.onnx` });
    }
  }
  return out;
}

/** The first candidate whose files all exist. */
export function pickOnnxCandidate(exists: (relative: string) => boolean): OnnxCandidate | undefined {
  return onnxCandidates().find(
    (c) =>
      exists(c.model) && (c.encoder === undefined || exists(c.encoder)) && (c.step === undefined || exists(c.step)),
  );
}
