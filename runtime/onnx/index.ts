// ONNX import: open an optimum / transformers.js export (with external data), find and tap its attention Softmax
// nodes, and run it through the inspector like the family graphs. See import-engine.ts for how a run streams.
export { ImportEngine, type ImportProgress } from './import-engine';
export { findOnnxInFolder, layoutOfFile, type OnnxLayout } from './locate';
export { onnxCandidates, pickOnnxCandidate, type OnnxCandidate } from './candidates';
export { prepareGraph, analyseGraph, type PreparedGraph } from './prepare';
export { externalDataLocations, parseOnnx, readOnnxFile } from './read';
export { indexGraph } from './graph-index';
export { findAttention, checkNotFused, type AttentionTap } from './find-attention';
