// Turns a model source (normalised config + weights) into graphs: picks the family builder by config.family and
// assembles the staged plan or the single full graph. No Node imports, so the panel's webview worker builds its
// plan from bytes it fetched exactly as the Node worker does from a folder (read-model.ts re-exports these).
import { LensError } from '../errors';
import { bertGraphs } from './bert';
import { assembleFull, assemblePlan, type FamilyGraphs, type PlanOptions } from './family';
import { gpt2Graphs } from './gpt2';
import { llamaGraphs } from './llama';
import type { FullGraphOptions, GraphPlan } from './plan';
import type { ModelSource } from './source';

/** The family builder of a source (also read by decode-step.ts). */
export function familyGraphs(source: ModelSource): FamilyGraphs {
  switch (source.config.family) {
    case 'bert':
      return bertGraphs(source);
    case 'gpt2':
      return gpt2Graphs(source);
    case 'llama':
      return llamaGraphs(source);
    case 'marian':
    case 'bart':
    case 'mbart':
    case 't5':
      // Encoder–decoders have two graphs of their own (seq2seq-builders.ts), not a staged plan.
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${source.config.modelType} is an encoder–decoder model; it runs through runtime/generate/seq2seq-runner.ts.`,
      );
  }
}

/** The staged plan (embed, one graph per layer, head) of plan.ts. */
export function buildPlan(source: ModelSource, options?: PlanOptions): GraphPlan {
  return assemblePlan(source, familyGraphs(source), options);
}

/** All layers in one graph, fed by the same plan.feeds(batch); attention outputs attn_0.. on request. */
export function buildFullGraph(
  source: ModelSource,
  options: FullGraphOptions,
): { onnx: Uint8Array; inputNames: string[]; outputNames: string[] } {
  return assembleFull(familyGraphs(source), options);
}
