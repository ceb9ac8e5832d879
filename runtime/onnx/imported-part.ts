// One imported graph (a whole model, or the encoder or the decoder of a pair) ready to run: normally one session per
// layer stage (partition.ts, stage-graph.ts), run in sequence so each layer's attention is handed on as soon as its
// stage finishes; when the graph cannot be split (or a stage fails to load or run), one session for the whole graph
// with every tap as an output (prepare.ts), which gives the same numbers all at once. Opening a part runs it on two
// probe inputs, stage by stage: a stage's inputs from earlier stages are typed by what those stages returned, and
// the probe's taps tell the engine each layer's heads and kind. The second probe input has two rows, so the sizes
// that follow the batch stay free and a forward pass (perturbation explanations) runs a whole batch per stage call;
// a graph that cannot take two rows (a Reshape that fixes the batch to 1) is opened again on one-row probes, and
// its forward passes run row by row.
import { createSession, type OutputTensor, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import type { BackendName } from '../types';
import type { FeedTensor } from '../models/plan';
import type { InputPlan } from './feeds';
import { PartitionError, partitionGraph } from './partition';
import { analyseFile, tapWholeGraph, type AnalysedFile, type ReadGraph } from './prepare';
import { buildStage, type PassType } from './stage-graph';

interface Stage {
  session: Session;
  /** Graph inputs it reads. */
  inputs: string[];
  /** Tensors from earlier stages it reads. */
  imports: string[];
  /** Tensors it computes for later stages. */
  exports: string[];
  /** Boundary tensors no stage reads after this one (dropped once it has run). */
  drop: string[];
  /** Its taps: the tap's index in the part, and the float32 output holding it ([B,H,Q,K] or [B·H,Q,K]). */
  taps: { tap: number; output: string }[];
  /** Output holding the hidden state [B,S,E] (float32). */
  hidden?: string;
  /** A whole graph's sum of every tap (prepare.ts): a scalar, finite exactly when every tap is. */
  sums?: string;
  /** A step decoder's taps joined into one output (prepare.ts). */
  joined?: string;
  /** The graph outputs it computes → the float32 output to fetch for each. */
  outputs: Map<string, string>;
}

/** What the probe run returned: every tap in order, and the hidden state (of both probe inputs). */
export interface PartProbe {
  /** Probe input 0 (one row): [1,H,Q,K] or [H,Q,K]. */
  taps: OutputTensor[];
  /** The taps for probe input 1 (one or two identical rows). */
  tapsB: OutputTensor[];
  hidden?: OutputTensor;
  /** The hidden state for the second probe input (its other lengths tell the decoder's stages their shapes). */
  hiddenB?: OutputTensor;
}

/** The lengths of the two probe inputs: the graph's own sequence and, for a decoder, the encoder's. */
export interface ProbeLengths {
  seq: [number, number];
  encoderSeq?: [number, number];
}

export interface PartOptions {
  planFeeds: boolean;
  /**
   * An encoder–decoder's step decoder: its past_key_values.* inputs are fed, and it runs as one session on one row
   * (a step's work is one token; one session call per step keeps it close to onnxruntime's own).
   */
  step?: boolean;
  /**
   * Why the graph opens as one session with every tap as an output instead of per-layer stages (an
   * encoder–decoder export's encoder and decoder: their layers are handed on together after each pass, so stages
   * would only cost — 1.3–1.5× raw onnxruntime's CPU time for a Marian base teacher-forced pass against ~1.05× in one
   * piece, bench/seq2seq-onnx.ts). Batched probes still run.
   */
  whole?: string;
  backend: BackendName;
  threads: number;
  /**
   * The feeds of probe input 0 (one row) or 1 (`rows` identical rows), given the graph's inputs and the vocabulary
   * its embedding table shows. The stages run on both: sizes that differ between them are the sequence's (or the
   * batch's), the others are fixed.
   */
  probeFeeds: (
    inputs: InputPlan[],
    vocabSize: number | undefined,
    probe: 0 | 1,
    rows: number,
  ) => Record<string, FeedTensor>;
  lengths: ProbeLengths;
  /** Called after each session is created, with how many of how many. */
  onSession?: (done: number, total: number) => void;
}

export interface PartRunHooks {
  isCancelled?: () => boolean;
  /** Called after each stage's session has run, before its taps are handed on; awaited. */
  onStage?: () => void | Promise<void>;
  /**
   * Called with each tap as soon as it exists, in order; awaited before the next stage starts. `finite`: the
   * graph's own sum of the stage's taps is finite, so no value of `t` is NaN or ±Infinity (no scan needed).
   * Without it the taps (and their sum) are not fetched: a pass that reads only the logits or the hidden state.
   */
  onTap?: (tap: number, t: OutputTensor, finite: boolean) => void | Promise<void>;
  /** Graph outputs to fetch too (as float32), e.g. logits. */
  outputs?: readonly string[];
  /** False: the hidden state is not fetched (a decoder pass whose last hidden state nobody reads). */
  hidden?: boolean;
}

/** What a step decoder's call returned (runStep). */
export interface PartStepResult {
  /** The taps flattened and joined in tap order, [1, Σ taps' sizes]; undefined when not asked for. */
  joined?: OutputTensor;
  /** The graph outputs asked for, by graph output name. */
  outputs: Record<string, OutputTensor>;
  /** Milliseconds of the session call. */
  ms: number;
}

export interface PartRunResult {
  /** The hidden state [B,S,E], when the graph has one. */
  hidden?: OutputTensor;
  /** The graph outputs asked for in hooks.outputs. */
  outputs: Record<string, OutputTensor>;
  /** Milliseconds of each stage's session call. */
  ms: number[];
}

/** Rows of probe input 1 in the first try. */
const BATCH_PROBE_ROWS = 2;
/** Relative difference allowed between identical rows of one batch (kernels may block a batch differently). */
const ROWS_AGREE = 1e-4;

export class ImportedPart {
  private constructor(
    readonly label: string,
    /** The graph's inputs and how to fill them. */
    readonly inputs: InputPlan[],
    /** Output names the graph already had. */
    readonly outputs: string[],
    readonly vocabSize: number | undefined,
    readonly tapCount: number,
    /** Why the graph runs in one piece instead of per layer; undefined when it streams. */
    readonly notStreamingWhy: string | undefined,
    /** Runs may carry several rows (the two-row probe passed); false: one row per run. */
    readonly batched: boolean,
    private stages: Stage[],
  ) {}

  get streaming(): boolean {
    return this.notStreamingWhy === undefined;
  }

  get stageCount(): number {
    return this.stages.length;
  }

  /** Whether a stage gives the last hidden state [B,S,E]. */
  get hasHidden(): boolean {
    return this.stages.some((s) => s.hidden !== undefined);
  }

  /** Reads, analyses and opens one .onnx file, and runs the probe through it. */
  static async open(file: string | ReadGraph, options: PartOptions): Promise<{ part: ImportedPart; probe: PartProbe }> {
    const a = analyseFile(file, options.planFeeds, options.step === true);
    const tries = fixedBatch(a) || options.step ? [1] : [BATCH_PROBE_ROWS, 1];
    // Errors in the feeds (a decoder without its encoder) are the model's, not the split's: they are thrown as is.
    const feedsOf = (rows: number) =>
      ([0, 1] as const).map((i) => options.probeFeeds(a.found.inputs, a.found.vocabSize, i, i === 0 ? 1 : rows));
    let why = options.step ? 'a step decoder runs whole' : (options.whole ?? '');
    for (const rows of options.step || options.whole ? [] : tries) {
      try {
        const { stages, probe } = await openStages(a, feedsOf(rows), options, rows);
        if (rows === 1 || rowsAgree(probe, rows)) return { part: ImportedPart.from(a, stages, undefined, rows), probe };
        await Promise.allSettled(stages.map((s) => s.session.release()));
      } catch (e) {
        why = e instanceof Error ? e.message.split('\n')[0] : String(e);
      }
    }
    for (const [i, rows] of tries.entries()) {
      try {
        const { stages, probe } = await openWhole(a, feedsOf(rows), options);
        if (rows === 1 || rowsAgree(probe, rows)) return { part: ImportedPart.from(a, stages, why, rows), probe };
        await Promise.allSettled(stages.map((s) => s.session.release()));
      } catch (e) {
        if (i === tries.length - 1) throw e;
      }
    }
    throw new LensError('UNSUPPORTED_MODEL', `${a.label} did not run on a test input: ${why}`);
  }

  private static from(a: AnalysedFile, stages: Stage[], why: string | undefined, rows: number): ImportedPart {
    const outputs = (a.onnx.graph.output ?? []).map((o) => o.name);
    const { inputs, vocabSize, taps } = a.found;
    return new ImportedPart(a.label, inputs, outputs, vocabSize, taps.length, why, rows > 1, stages);
  }

  /** Runs every stage on `feeds` (the graph's inputs); returns the hidden state, the outputs asked for and each
   * stage's milliseconds. */
  async run(feeds: Record<string, FeedTensor>, hooks: PartRunHooks): Promise<PartRunResult> {
    if (this.stages.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    const wanted = hooks.outputs ?? [];
    for (const name of wanted)
      if (!this.stages.some((s) => s.outputs.has(name)))
        throw new LensError('UNSUPPORTED_MODEL', `${this.label} has no ${name} output.`);
    const passed = new Map<string, OutputTensor>();
    const ms: number[] = [];
    const outputs: Record<string, OutputTensor> = {};
    let hidden: OutputTensor | undefined;
    for (const stage of this.stages) {
      if (hooks.isCancelled?.()) throw cancelled();
      const extra = wanted.filter((name) => stage.outputs.has(name));
      // A set: the hidden state may be a graph output asked for by name too (a float32 export's is fetched as is).
      const fetches = [
        ...new Set([
          ...fetchesOf(stage, hooks.hidden !== false, hooks.onTap !== undefined),
          ...extra.map((n) => stage.outputs.get(n)!),
        ]),
      ];
      const t0 = performance.now();
      const out = await stage.session.run(stageFeeds(stage, feeds, passed), fetches);
      ms.push(performance.now() - t0);
      await hooks.onStage?.();
      for (const name of stage.exports) passed.set(name, out[name]);
      for (const name of stage.drop) passed.delete(name);
      if (stage.hidden && hooks.hidden !== false) hidden = out[stage.hidden];
      for (const name of extra) outputs[name] = out[stage.outputs.get(name)!];
      if (hooks.onTap) {
        const sum = stage.sums && stage.taps.length > 0 ? out[stage.sums].data[0] : NaN;
        const finite = sum - sum === 0;
        for (const t of stage.taps) await hooks.onTap(t.tap, out[t.output], finite);
      }
    }
    return { hidden, outputs, ms };
  }

  /**
   * A step decoder's call (a part opened with `step`: one session): the graph once on complete `feeds`, fetching
   * its joined taps when `taps` and the graph outputs `outputs` — none of run()'s per-stage bookkeeping, for a call
   * that is a fraction of a millisecond.
   */
  async runStep(feeds: Record<string, FeedTensor>, outputs: readonly string[], taps: boolean): Promise<PartStepResult> {
    const stage = this.stages[0];
    if (!stage) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    if (!stage.joined || this.stages.length !== 1)
      throw new LensError('INFERENCE_FAILED', `${this.label} is not a step decoder (no joined attention output).`);
    const fetches = taps ? [stage.joined] : [];
    for (const name of outputs) {
      const readable = stage.outputs.get(name);
      if (!readable) throw new LensError('UNSUPPORTED_MODEL', `${this.label} has no ${name} output.`);
      fetches.push(readable);
    }
    const t0 = performance.now();
    const out = await stage.session.run(feeds, fetches);
    const ms = performance.now() - t0;
    const result: PartStepResult = { outputs: {}, ms };
    if (taps) result.joined = out[stage.joined];
    for (const name of outputs) result.outputs[name] = out[stage.outputs.get(name)!];
    return result;
  }

  async release(): Promise<void> {
    const stages = this.stages;
    this.stages = [];
    await Promise.allSettled(stages.map((s) => s.session.release()));
  }
}

/** True when the graph's token-id input declares its batch size fixed to 1 (a two-row probe would fail). */
function fixedBatch(a: AnalysedFile): boolean {
  const plan = a.found.inputs.find((p) => p.role === 'ids' || p.role === 'plan');
  const input = plan && a.index.inputs.find((v) => v.name === plan.name);
  return Number(input?.type?.tensorType?.shape?.dim?.[0]?.dimValue ?? 0) === 1;
}

/**
 * True when the probe's `rows`-row input gave `rows` copies of one row: every tap is [rows,H,Q,K] (or [rows·H,Q,K])
 * with the same heads as the one-row probe, the hidden state [rows,S,E], and the rows' values equal (they are the
 * same input). A graph that folds the batch into another axis fails this and runs row by row.
 */
function rowsAgree(probe: PartProbe, rows: number): boolean {
  const same = (t: OutputTensor) => {
    const n = t.data.length / rows;
    for (let r = 1; r < rows; r++)
      for (let i = 0; i < n; i++)
        if (!(Math.abs(t.data[r * n + i] - t.data[i]) <= ROWS_AGREE * Math.max(1, Math.abs(t.data[i])))) return false;
    return Number.isInteger(n);
  };
  const tapsOk = probe.taps.every((t, i) => {
    const b = probe.tapsB[i];
    if (!b || b.dims.length !== t.dims.length) return false;
    const lead = t.dims.length === 4 ? b.dims[0] === rows && b.dims[1] === t.dims[1] : b.dims[0] === rows * t.dims[0];
    return lead && same(b);
  });
  const hiddenOk = !probe.hiddenB || (probe.hiddenB.dims[0] === rows && same(probe.hiddenB));
  return tapsOk && hiddenOk;
}

/** What a stage fetches: its taps (with their sum, when the graph has one), its hidden state and its exports. */
function fetchesOf(stage: Stage, hidden = true, taps = true): string[] {
  const sums = taps && stage.sums && stage.taps.length > 0 ? [stage.sums] : [];
  return [
    ...(taps ? stage.taps.map((t) => t.output) : []),
    ...sums,
    ...(stage.hidden && hidden ? [stage.hidden] : []),
    ...stage.exports,
  ];
}

function stageFeeds(
  stage: Stage,
  feeds: Record<string, FeedTensor>,
  passed: Map<string, OutputTensor>,
): Record<string, FeedTensor | OutputTensor> {
  const out: Record<string, FeedTensor | OutputTensor> = {};
  for (const name of stage.inputs) {
    if (!feeds[name]) throw new LensError('INFERENCE_FAILED', `No value for the imported graph's input ${name}.`);
    out[name] = feeds[name];
  }
  for (const name of stage.imports) {
    const t = passed.get(name);
    if (!t) throw new LensError('INFERENCE_FAILED', `No stage computed ${name} before a stage that reads it.`);
    out[name] = t;
  }
  return out;
}

/**
 * The type and shape to declare for a tensor passed between stages, from its values for the two probe inputs: a
 * size both share is fixed; one that follows the sequence (or the encoder's) gets its symbolic name from the
 * graph's inputs; any other is left unknown.
 */
function passType(
  a: OutputTensor,
  b: OutputTensor,
  lengths: ProbeLengths,
  rows: number,
  names: SequenceNames,
): PassType {
  if (a.type !== b.type || a.dims.length !== b.dims.length)
    throw new PartitionError(`a tensor between stages changes type or rank with the input length`);
  const dims = a.dims.map((d, i) => {
    const e = b.dims[i];
    if (d === e) return d;
    if (d === lengths.seq[0] && e === lengths.seq[1]) return names.seq;
    if (lengths.encoderSeq && d === lengths.encoderSeq[0] && e === lengths.encoderSeq[1]) return names.encoderSeq;
    if (rows > 1 && d === 1 && e === rows) return names.batch;
    return null;
  });
  return { type: a.type, dims };
}

interface SequenceNames {
  batch: string;
  seq: string;
  encoderSeq: string;
}

/** The symbolic names the graph's inputs give the batch and sequence dimensions (dimensions 0 and 1 of the ids and
 * of the encoder states). */
function sequenceNames(a: AnalysedFile): SequenceNames {
  const param = (role: string, dim: number, fallback: string) => {
    const plan = a.found.inputs.find((p) => p.role === role);
    const input = plan && a.index.inputs.find((v) => v.name === plan.name);
    return input?.type?.tensorType?.shape?.dim?.[dim]?.dimParam || fallback;
  };
  return {
    batch: param('ids', 0, 'attention_lens_batch'),
    seq: param('ids', 1, 'attention_lens_sequence'),
    encoderSeq: param('encoder_hidden', 1, 'attention_lens_encoder_sequence'),
  };
}

/** Splits the graph into per-layer stages, creating each in turn and running it on both probe inputs (the second
 * of `rows` rows). */
async function openStages(
  a: AnalysedFile,
  feeds: Record<string, FeedTensor>[],
  options: PartOptions,
  rows: number,
): Promise<{ stages: Stage[]; probe: PartProbe }> {
  const specs = partitionGraph(a.index, a.found.taps, a.found.hidden, a.label);
  const lastRead = new Map<string, number>();
  specs.forEach((spec, s) => spec.imports.forEach((name) => lastRead.set(name, s)));
  const names = sequenceNames(a);
  const types = new Map<string, PassType>();
  const passed = feeds.map(() => new Map<string, OutputTensor>());
  const probe: PartProbe = { taps: [], tapsB: [] };
  const stages: Stage[] = [];
  try {
    for (const [s, spec] of specs.entries()) {
      const built = buildStage(a.onnx.bytes, a.index, spec, a.found.taps, a.found.hidden, types, a.label);
      const session = await createSession(built.bytes, { backend: options.backend, threads: options.threads });
      const stage: Stage = {
        session,
        inputs: spec.inputs,
        imports: spec.imports,
        exports: spec.exports,
        drop: [...lastRead].filter(([, last]) => last === s).map(([name]) => name),
        taps: spec.taps.map((tap, i) => ({ tap, output: built.tapOutputs[i] })),
        hidden: built.hiddenOutput,
        outputs: built.readable,
      };
      stages.push(stage);
      options.onSession?.(s + 1, specs.length);
      const outs: Record<string, OutputTensor>[] = [];
      for (const [i, f] of feeds.entries()) {
        const out = await session.run(stageFeeds(stage, f, passed[i]), fetchesOf(stage));
        for (const name of stage.exports) passed[i].set(name, out[name]);
        outs.push(out);
      }
      for (const name of stage.exports)
        types.set(name, passType(outs[0][name], outs[1][name], options.lengths, rows, names));
      for (const t of stage.taps) {
        probe.taps[t.tap] = outs[0][t.output];
        probe.tapsB[t.tap] = outs[1][t.output];
      }
      if (stage.hidden) {
        probe.hidden = outs[0][stage.hidden];
        probe.hiddenB = outs[1][stage.hidden];
      }
    }
  } catch (e) {
    await Promise.allSettled(stages.map((s) => s.session.release()));
    throw e;
  }
  return { stages, probe };
}

/** One session for the whole graph, every tap an output; its probe failing means the model cannot run. */
async function openWhole(
  a: AnalysedFile,
  feeds: Record<string, FeedTensor>[],
  options: PartOptions,
): Promise<{ stages: Stage[]; probe: PartProbe }> {
  const prepared = tapWholeGraph(a, options.step === true);
  const session = await createSession(prepared.bytes, { backend: options.backend, threads: options.threads });
  const stage: Stage = {
    session,
    inputs: prepared.inputs.map((p) => p.name),
    imports: [],
    exports: [],
    drop: [],
    taps: prepared.taps.map((output, tap) => ({ tap, output })),
    hidden: prepared.hidden, // none for a step decoder, whose hidden state is never read
    sums: prepared.sums,
    joined: prepared.joined,
    outputs: prepared.readable,
  };
  options.onSession?.(1, 1);
  try {
    const outs: Record<string, OutputTensor>[] = [];
    for (const f of feeds) outs.push(await session.run(stageFeeds(stage, f, new Map()), fetchesOf(stage)));
    const hidden = (i: number) => (stage.hidden ? outs[i][stage.hidden] : undefined);
    return {
      stages: [stage],
      probe: {
        taps: stage.taps.map((t) => outs[0][t.output]),
        tapsB: stage.taps.map((t) => outs[1][t.output]),
        hidden: hidden(0),
        hiddenB: hidden(1),
      },
    };
  } catch (e) {
    await session.release();
    const why = e instanceof Error ? e.message : String(e);
    throw new LensError('UNSUPPORTED_MODEL', `The imported model did not run on a test input: ${why}`);
  }
}
