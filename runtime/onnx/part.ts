// One imported graph (a whole model, or the encoder or the decoder of a pair) ready to run: normally one session per
// layer stage (partition.ts, stage-graph.ts), run in sequence so each layer's attention is handed on as soon as its
// stage finishes; when the graph cannot be split (or a stage fails to load or run), one session for the whole graph
// with every tap as an output (prepare.ts), which gives the same numbers all at once. Opening a part runs it once on
// a probe input, stage by stage: a stage's inputs from earlier stages are typed by what those stages returned, and
// the probe's taps tell the engine each layer's heads and kind.
import { createSession, type OutputTensor, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import type { BackendName } from '../types';
import type { FeedTensor } from '../models/plan';
import type { InputPlan } from './feeds';
import { PartitionError, partitionGraph } from './partition';
import { analyseFile, tapWholeGraph, type AnalysedFile } from './prepare';
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
  /** Output holding the hidden state [1,S,E] (float32). */
  hidden?: string;
}

/** What the probe run returned: every tap in order, and the hidden state (of both probe inputs). */
export interface PartProbe {
  taps: OutputTensor[];
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
  backend: BackendName;
  threads: number;
  /**
   * The feeds of probe input 0 or 1, given the graph's inputs and the vocabulary its embedding table shows. The
   * stages run on both: sizes that differ between them are the sequence's, the others are fixed.
   */
  probeFeeds: (inputs: InputPlan[], vocabSize: number | undefined, probe: 0 | 1) => Record<string, FeedTensor>;
  lengths: ProbeLengths;
  /** Called after each session is created, with how many of how many. */
  onSession?: (done: number, total: number) => void;
}

export interface PartRunHooks {
  isCancelled?: () => boolean;
  /** Called after each stage's session has run. */
  onStage?: () => void;
  /** Called with each tap as soon as it exists, in order; awaited before the next stage starts. */
  onTap: (tap: number, t: OutputTensor) => void | Promise<void>;
}

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
    private stages: Stage[],
  ) {}

  get streaming(): boolean {
    return this.notStreamingWhy === undefined;
  }

  get stageCount(): number {
    return this.stages.length;
  }

  /** Reads, analyses and opens one .onnx file, and runs the probe through it. */
  static async open(file: string, options: PartOptions): Promise<{ part: ImportedPart; probe: PartProbe }> {
    const a = analyseFile(file, options.planFeeds);
    // Errors in the feeds (a decoder without its encoder) are the model's, not the split's: they are thrown as is.
    const feeds = ([0, 1] as const).map((i) => options.probeFeeds(a.found.inputs, a.found.vocabSize, i));
    let why: string;
    try {
      const { stages, probe } = await openStages(a, feeds, options);
      return { part: ImportedPart.from(a, stages, undefined), probe };
    } catch (e) {
      why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    }
    const { stages, probe } = await openWhole(a, feeds, options);
    return { part: ImportedPart.from(a, stages, why), probe };
  }

  private static from(a: AnalysedFile, stages: Stage[], why: string | undefined): ImportedPart {
    const outputs = (a.onnx.graph.output ?? []).map((o) => o.name);
    return new ImportedPart(a.label, a.found.inputs, outputs, a.found.vocabSize, a.found.taps.length, why, stages);
  }

  /** Runs every stage on `feeds` (the graph's inputs); returns the hidden state and each stage's milliseconds. */
  async run(feeds: Record<string, FeedTensor>, hooks: PartRunHooks): Promise<{ hidden?: OutputTensor; ms: number[] }> {
    if (this.stages.length === 0) throw new LensError('DISPOSED', 'The model was unloaded; load it again.');
    const passed = new Map<string, OutputTensor>();
    const ms: number[] = [];
    let hidden: OutputTensor | undefined;
    for (const stage of this.stages) {
      if (hooks.isCancelled?.()) throw cancelled();
      const t0 = performance.now();
      const out = await stage.session.run(stageFeeds(stage, feeds, passed), fetchesOf(stage));
      ms.push(performance.now() - t0);
      hooks.onStage?.();
      for (const name of stage.exports) passed.set(name, out[name]);
      for (const name of stage.drop) passed.delete(name);
      if (stage.hidden) hidden = out[stage.hidden];
      for (const t of stage.taps) await hooks.onTap(t.tap, out[t.output]);
    }
    return { hidden, ms };
  }

  async release(): Promise<void> {
    const stages = this.stages;
    this.stages = [];
    await Promise.allSettled(stages.map((s) => s.session.release()));
  }
}

function fetchesOf(stage: Stage): string[] {
  return [...stage.taps.map((t) => t.output), ...(stage.hidden ? [stage.hidden] : []), ...stage.exports];
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
function passType(a: OutputTensor, b: OutputTensor, lengths: ProbeLengths, names: SequenceNames): PassType {
  if (a.type !== b.type || a.dims.length !== b.dims.length)
    throw new PartitionError(`a tensor between stages changes type or rank with the input length`);
  const dims = a.dims.map((d, i) => {
    const e = b.dims[i];
    if (d === e) return d;
    if (d === lengths.seq[0] && e === lengths.seq[1]) return names.seq;
    if (lengths.encoderSeq && d === lengths.encoderSeq[0] && e === lengths.encoderSeq[1]) return names.encoderSeq;
    return null;
  });
  return { type: a.type, dims };
}

interface SequenceNames {
  seq: string;
  encoderSeq: string;
}

/** The symbolic names the graph's inputs give the sequence dimensions (dimension 1 of the ids and encoder states). */
function sequenceNames(a: AnalysedFile): SequenceNames {
  const param = (role: string, fallback: string) => {
    const plan = a.found.inputs.find((p) => p.role === role);
    const input = plan && a.index.inputs.find((v) => v.name === plan.name);
    return input?.type?.tensorType?.shape?.dim?.[1]?.dimParam || fallback;
  };
  return {
    seq: param('ids', 'attention_lens_sequence'),
    encoderSeq: param('encoder_hidden', 'attention_lens_encoder_sequence'),
  };
}

/** Splits the graph into per-layer stages, creating each in turn and running it on both probe inputs. */
async function openStages(
  a: AnalysedFile,
  feeds: Record<string, FeedTensor>[],
  options: PartOptions,
): Promise<{ stages: Stage[]; probe: PartProbe }> {
  const specs = partitionGraph(a.index, a.found.taps, a.found.hidden, a.label);
  const lastRead = new Map<string, number>();
  specs.forEach((spec, s) => spec.imports.forEach((name) => lastRead.set(name, s)));
  const names = sequenceNames(a);
  const types = new Map<string, PassType>();
  const passed = feeds.map(() => new Map<string, OutputTensor>());
  const probe: PartProbe = { taps: [] };
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
      };
      stages.push(stage);
      options.onSession?.(s + 1, specs.length);
      const outs: Record<string, OutputTensor>[] = [];
      for (const [i, f] of feeds.entries()) {
        const out = await session.run(stageFeeds(stage, f, passed[i]), fetchesOf(stage));
        for (const name of stage.exports) passed[i].set(name, out[name]);
        outs.push(out);
      }
      for (const name of stage.exports) types.set(name, passType(outs[0][name], outs[1][name], options.lengths, names));
      for (const t of stage.taps) probe.taps[t.tap] = outs[0][t.output];
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
  const prepared = tapWholeGraph(a);
  const session = await createSession(prepared.bytes, { backend: options.backend, threads: options.threads });
  const stage: Stage = {
    session,
    inputs: prepared.inputs.map((p) => p.name),
    imports: [],
    exports: [],
    drop: [],
    taps: prepared.taps.map((output, tap) => ({ tap, output })),
    hidden: prepared.hidden,
  };
  options.onSession?.(1, 1);
  try {
    const outs: Record<string, OutputTensor>[] = [];
    for (const f of feeds) outs.push(await session.run(stageFeeds(stage, f, new Map()), fetchesOf(stage)));
    const hidden = (i: number) => (stage.hidden ? outs[i][stage.hidden] : undefined);
    return {
      stages: [stage],
      probe: { taps: stage.taps.map((t) => outs[0][t.output]), hidden: hidden(0), hiddenB: hidden(1) },
    };
  } catch (e) {
    await session.release();
    const why = e instanceof Error ? e.message : String(e);
    throw new LensError('UNSUPPORTED_MODEL', `The imported model did not run on a test input: ${why}`);
  }
}
