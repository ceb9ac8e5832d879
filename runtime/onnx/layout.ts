// The shape of an ONNX export's files, as plain data: it crosses to the inference worker, and the worker protocol
// (which the webview also reads) imports it, so this file imports nothing.

/** The ONNX graphs of one model. */
export interface OnnxLayout {
  /** The decoder-only or encoder-only graph, or the decoder of an encoder-decoder export. */
  model: string;
  /** The encoder graph of an encoder-decoder export (run first; its last_hidden_state feeds `model`). */
  encoder?: string;
  /** The key/value-cached step decoder of an encoder–decoder export (optimum's decoder_with_past_model.onnx): each
   * greedy step after the first runs it on one token. A merged decoder (decoder_model_merged.onnx as `model`)
   * carries its own, so it has none here. */
  step?: string;
  /** Where tokenizer.json / config.json are (the model's folder). */
  dir: string;
}
