// What a family builder works from: a normalised config and a weight store, plus a checked accessor that finds the
// checkpoint's name prefix ('bert.', 'model.'...) and asserts each weight's shape before it goes into a graph.
import { LensError } from '../errors';
import type { ModelConfig } from '../formats/config-normalise';
import type { WeightStore } from '../formats/safetensors-bytes';
import type { GraphBuilder } from './graph-builder';

/** A model as read from disk (or made in memory): config + weights. */
export interface ModelSource {
  config: ModelConfig;
  weights: WeightStore;
  /** The folder it was read from, when it was read from one. */
  dir?: string;
}

/** Prefixes HF checkpoints put in front of the base model's tensor names. */
export const KNOWN_PREFIXES = [
  '',
  'bert.',
  'roberta.',
  'distilbert.',
  'transformer.',
  'model.',
  // The language model inside a multimodal checkpoint (Gemma 3 4B-27B): transformers' saved and Hub layouts.
  'language_model.model.',
  'model.language_model.',
];

/** Shape-checked access to one checkpoint's tensors under its detected prefix. */
export class CheckedWeights {
  readonly prefix: string;

  /** `anchor` is a tensor every checkpoint of the family has (e.g. 'wte.weight'); it decides the prefix. */
  constructor(
    readonly store: WeightStore,
    anchor: string,
    private readonly label: string,
  ) {
    const prefix = KNOWN_PREFIXES.find((p) => store.has(p + anchor));
    if (prefix === undefined) {
      const sample = store.names().slice(0, 3).join(', ');
      throw new LensError(
        'SHAPE_MISMATCH',
        `These weights are not a ${label} checkpoint: no tensor ${anchor} (with any of the prefixes ${KNOWN_PREFIXES.filter((p) => p).join(' ')}); found e.g. ${sample || 'nothing'}.`,
      );
    }
    this.prefix = prefix;
  }

  /** The stored name of `name`: under the prefix, or at the top level (lm_head.weight sits outside the base model). */
  resolve(name: string): string | undefined {
    if (this.store.has(this.prefix + name)) return this.prefix + name;
    if (this.store.has(name)) return name;
    return undefined;
  }

  has(name: string): boolean {
    return this.resolve(name) !== undefined;
  }

  /** Asserts the tensor exists with exactly `shape`; returns its stored name. */
  check(name: string, shape: number[]): string {
    const full = this.resolve(name);
    if (full === undefined)
      throw new LensError(
        'SHAPE_MISMATCH',
        `The ${this.label} weights have no tensor ${this.prefix + name} (expected shape [${shape.join(', ')}]).`,
      );
    const found = this.store.shape(full);
    if (found.length !== shape.length || found.some((d, i) => d !== shape[i]))
      throw new LensError(
        'SHAPE_MISMATCH',
        `Weight ${full} has shape [${found.join(', ')}] but the config expects [${shape.join(', ')}]; config.json and the weights do not match.`,
      );
    return full;
  }

  /** Checks `name` and adds it to the graph (once per graph), named as stored; returns the initializer's name. */
  add(g: GraphBuilder, name: string, shape: number[]): string {
    const full = this.check(name, shape);
    return g.weightOnce(full, () => this.store.get(full), shape);
  }

  /**
   * Linear layers `names` (each `name.weight` [rows_i, cols], optional `name.bias` [rows_i]) stacked by rows as one
   * [Σ rows, cols] weight, added once per graph, and their biases as one [Σ rows] (zeros where a layer has none;
   * undefined when none has one). For one MatMul over several projections of the same input (ops.splitLinear).
   */
  addStacked(g: GraphBuilder, names: string[], rows: number[], cols: number): [string, string | undefined] {
    const total = rows.reduce((a, b) => a + b, 0);
    const full = names.map((n, i) => this.check(n + '.weight', [rows[i], cols]));
    const biases = names.map((n, i) => (this.has(n + '.bias') ? this.check(n + '.bias', [rows[i]]) : undefined));
    const stack = (parts: (string | undefined)[], size: (i: number) => number): Float32Array => {
      const out = new Float32Array(parts.reduce((a, _, i) => a + size(i), 0));
      let at = 0;
      parts.forEach((name, i) => {
        if (name) out.set(this.store.get(name), at);
        at += size(i);
      });
      return out;
    };
    const weight = g.weightOnce(`${full[0]}.stacked${names.length}`, () => stack(full, (i) => rows[i] * cols), [
      total,
      cols,
    ]);
    if (biases.every((b) => b === undefined)) return [weight, undefined];
    return [
      weight,
      g.weightOnce(`${full[0]}.stacked${names.length}.bias`, () => stack(biases, (i) => rows[i]), [total]),
    ];
  }

  /** Like add(), for the first of several alternative names that exists (e.g. LayerNorm .weight / .gamma). */
  addFirst(g: GraphBuilder, names: string[], shape: number[]): string {
    const hit = names.find((n) => this.has(n)) ?? names[0];
    return this.add(g, hit, shape);
  }
}
