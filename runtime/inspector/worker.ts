// The inference worker thread: reads the model (a Hugging Face folder, a GGUF file, an ONNX export or a synthetic
// BERT), builds
// its stage graphs, creates the sessions, and serves runs and batched forward passes one at a time through the shared
// worker loop (worker-loop.ts), posting each layer's attention the moment its stage finishes. onnxruntime blocks the
// thread it runs on, so it lives here and the calling thread (extension host, CLI) stays responsive.
import { parentPort } from 'node:worker_threads';
import { backendLoadError, resolveBackend } from '../backend/ort';
import { Channel, type NoEnd } from '../channel/channel';
import { nodePort } from '../channel/ports';
import { randomizeTopLayers, randomizeTopSeq2SeqLayers } from '../models/randomize-layers';
import { buildPlan, readModel } from '../models/read-model';
import { readGgufModel } from '../models/gguf-source';
import { syntheticBert } from '../models/synthetic';
import { layerCountWarning } from '../models/weight-layers';
import { StageEngine } from './engine';
import { ImportEngine } from '../onnx/import-engine';
import { isSeq2SeqFolder, readSeq2SeqModel } from '../models/seq2seq-read';
import { Seq2SeqEngine } from './seq2seq-engine';
import { servedImportSeq2Seq } from './import-seq2seq';
import { CancelFlags } from './cancel-flags';
import { own } from './transfer';
import { ServedGenerator } from './served-generator';
import { GradientService } from '../grad/gradient-service';
import { Seq2SeqGradientService } from '../grad/seq2seq-gradients';
import { Seq2SeqMixingService } from './seq2seq-mixing-service';
import { GRADIENT_REFUSED_ONNX } from '../grad/family-gradient';
import { LensError } from '../errors';
import { engineModel, workerFailure, WorkerLoop, type ModelLoader, type ServedModel } from './worker-loop';
import type {
  ForwardDone,
  LoadProgressEvent,
  LoadTimings,
  NodeLoaded,
  NodeLoadRequest,
  NodeWorkerEnd,
} from './worker-protocol';

const port = parentPort;
if (!port) throw new Error('runtime/inspector/worker.ts must run in a worker thread.');

type Engine = StageEngine | ImportEngine | Seq2SeqEngine;
type NodeModel = ServedModel & {
  engine: Engine;
  gradients?: GradientService;
  seq2seqGradients?: Seq2SeqGradientService;
  seq2seqMixing?: Seq2SeqMixingService;
};

/**
 * Between stages: with shared cancel flags nothing (a turn of the event loop costs ~1 ms per stage); without them,
 * one turn so that a cancel message can arrive.
 */
function pauseFor(flags: CancelFlags | undefined): () => Promise<void> {
  return flags ? () => Promise.resolve() : () => new Promise<void>((resolve) => setImmediate(resolve));
}

const loader: ModelLoader<NodeLoadRequest, NodeLoaded, NodeModel> = {
  async load(req, progress: (p: LoadProgressEvent) => void) {
    const flags = req.cancelFlags ? new CancelFlags(req.cancelFlags) : undefined;
    const backend = await resolveBackend(req.backend, req.threads);
    const t0 = performance.now();
    const loaded = (
      engine: Engine,
      generator: ServedGenerator,
      timings: LoadTimings,
      warning?: string,
      gradients?: GradientService,
      seq2seqGradients?: Seq2SeqGradientService,
      seq2seqMixing?: Seq2SeqMixingService,
    ) => ({
      model: {
        ...(engine instanceof Seq2SeqEngine
          ? { ...engine.served(), generate: generator.generate.bind(generator) }
          : engine instanceof ImportEngine && engine.facts.encoderDecoder
            ? { ...servedImportSeq2Seq(engine), generate: generator.generate.bind(generator) }
            : engineModel(engine, pauseFor(flags), generator)),
        engine,
        gradients,
        seq2seqGradients,
        seq2seqMixing,
        release: async () => {
          await gradients?.release();
          await seq2seqGradients?.release();
          await seq2seqMixing?.release();
          await generator.release();
          await engine.release();
        },
      },
      shared: flags,
      reply: {
        facts: engine.facts,
        backend,
        threads: req.threads,
        timings,
        ...(warning ? { warnings: [warning] } : {}),
        ...(req.backend === 'auto' && backend === 'wasm' && backendLoadError('native')
          ? { fallbackReason: backendLoadError('native') }
          : {}),
      },
    });
    if ('onnx' in req.source) {
      const engine = await ImportEngine.create(req.source.onnx, backend, req.threads, (phase, fraction) =>
        progress({ phase, fraction }),
      );
      const none = new ServedGenerator(
        undefined,
        () => backend,
        req.threads,
        "an ONNX export has no KV-cached step graph here; load the model's Hugging Face folder or a GGUF file",
      );
      return loaded(engine, none, { readMs: 0, planMs: 0, sessionsMs: performance.now() - t0 });
    }
    progress({ phase: 'reading-weights' });
    if ('dir' in req.source && isSeq2SeqFolder(req.source.dir)) {
      // Encoder–decoders: two graphs (encoder, KV-cached decoder) served by their own engine.
      const read = await readSeq2SeqModel(req.source.dir);
      const r = req.source.randomizeTop;
      const seq = r ? randomizeTopSeq2SeqLayers(read, r.layers, r.seed) : read;
      const t1 = performance.now();
      progress({ phase: 'creating-sessions', fraction: 0 });
      const engine = await Seq2SeqEngine.create(seq, backend, req.threads);
      const none = new ServedGenerator(
        undefined,
        () => backend,
        req.threads,
        'an encoder–decoder model writes its output by translating the source (Show Attention translates it)',
      );
      // Its gradient graphs (runtime/grad/seq2seq-gradient.ts) are built from the same weights on first use.
      const grads = new Seq2SeqGradientService(seq, backend, req.threads);
      // And its context-mixing graphs (runtime/models/seq2seq-mixing-graph.ts), also on first use.
      const mixing = new Seq2SeqMixingService(seq, backend, req.threads);
      return loaded(
        engine,
        none,
        { readMs: t1 - t0, planMs: 0, sessionsMs: performance.now() - t1 },
        undefined,
        undefined,
        grads,
        mixing,
      );
    }
    const read =
      'dir' in req.source
        ? await readModel(req.source.dir)
        : 'gguf' in req.source
          ? readGgufModel(req.source.gguf)
          : syntheticBert(req.source.synthetic);
    const r = req.source.randomizeTop;
    const source = r ? randomizeTopLayers(read, r.layers, r.seed) : read;
    const t1 = performance.now();
    const warning = 'dir' in req.source ? layerCountWarning(source) : undefined;
    progress({ phase: 'building-graphs' });
    const plan = buildPlan(source);
    const t2 = performance.now();
    progress({ phase: 'creating-sessions', fraction: 0 });
    const engine = await StageEngine.create(plan, backend, req.threads, (done, total) =>
      progress({ phase: 'creating-sessions', fraction: done / total }),
    );
    // Gradient graphs (runtime/grad) and the generation step graph are built from the same source on first use (the
    // weights stay referenced for them: no second read of the model).
    const gradients = new GradientService(source, backend, req.threads);
    const generator =
      'synthetic' in req.source
        ? new ServedGenerator(undefined, () => backend, req.threads, 'a synthetic BERT is an encoder')
        : new ServedGenerator(source, () => backend, req.threads);
    const timings = { readMs: t1 - t0, planMs: t2 - t1, sessionsMs: performance.now() - t2 };
    return loaded(engine, generator, timings, warning, gradients);
  },
};

const channel = new Channel<NodeWorkerEnd, NoEnd>(nodePort(port), { unexpected: workerFailure });
const loop = new WorkerLoop(channel, loader);

// A batched forward pass: one reply with the head outputs (and attention / norms when asked), in the run queue.
channel.handle('forward', (req, ctx) =>
  loop.queued(ctx, async (model, isCancelled) => {
    const r = await model.engine.forward(req.batch, {
      read: req.read,
      attention: req.attention,
      norms: req.norms,
      mixing: req.mixing,
      valueKeep: req.valueKeep,
      isCancelled,
      pause: pauseFor(loop.queue.shared as CancelFlags | undefined),
    });
    const send = (a: Float32Array) => {
      const owned = own(a);
      ctx.transfer(owned.buffer as ArrayBuffer);
      return owned;
    };
    const done: ForwardDone = {
      rows: r.rows,
      seq: r.seq,
      head: send(r.head),
      width: r.width,
      stageMs: r.stageMs,
    };
    if (r.attention) done.attention = r.attention.map(send);
    if (r.grams) done.grams = r.grams.map((g) => (g ? send(g) : null));
    if (r.mixing) {
      // A layer's output is the next layer's residual input: one array, sent once.
      const sent = new Map<Float32Array, Float32Array>();
      const once = (a: Float32Array) => sent.get(a) ?? sent.set(a, send(a)).get(a)!;
      done.mixing = r.mixing.map((m) => ({
        vectors: once(m.vectors),
        resid: once(m.resid),
        sum: once(m.sum),
        ...(m.postNorm ? { postNorm: once(m.postNorm) } : {}),
        ...(m.out ? { out: once(m.out) } : {}),
      }));
    }
    return done;
  }),
);

// Gradients (saliency, gradient × input, Integrated Gradients, attention × gradient), in the run queue.
channel.handle('gradients', (req, ctx) =>
  loop.queued(ctx, async (model, isCancelled) => {
    if (!model.gradients) throw new LensError('UNSUPPORTED_MODEL', GRADIENT_REFUSED_ONNX);
    const r = await model.gradients.compute(req, isCancelled);
    const send = (a: Float32Array) => {
      const owned = own(a);
      ctx.transfer(owned.buffer as ArrayBuffer);
      return owned;
    };
    r.grad = send(r.grad);
    r.embedding = send(r.embedding);
    if (r.baseline) r.baseline = send(r.baseline);
    if (r.attention) r.attention = r.attention.map(send);
    if (r.attentionGrad) r.attentionGrad = r.attentionGrad.map(send);
    return r;
  }),
);

// An encoder–decoder's gradients (Explain's saliency, gradient × input, Integrated Gradients), in the run queue.
channel.handle('seq2seq-gradients', (req, ctx) =>
  loop.queued(ctx, async (model, isCancelled) => {
    if (!model.seq2seqGradients)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        model.engine instanceof ImportEngine
          ? GRADIENT_REFUSED_ONNX
          : 'This model is not an encoder–decoder; its gradients are served by the gradients call.',
      );
    const r = await model.seq2seqGradients.compute(req, isCancelled);
    const send = (a: Float32Array) => {
      const owned = own(a);
      ctx.transfer(owned.buffer as ArrayBuffer);
      return owned;
    };
    r.gradSource = send(r.gradSource);
    r.gradTarget = send(r.gradTarget);
    r.sourceEmbedding = send(r.sourceEmbedding);
    r.targetEmbedding = send(r.targetEmbedding);
    if (r.baseline) r.baseline = send(r.baseline);
    if (r.cross) r.cross = r.cross.map(send);
    if (r.gradCross) r.gradCross = r.gradCross.map(send);
    return r;
  }),
);

// An encoder–decoder's context mixing (Explain's ALTI and value zeroing), in the run queue; small matrices back.
channel.handle('seq2seq-mixing', (req, ctx) =>
  loop.queued(ctx, async (model, isCancelled) => {
    if (!model.seq2seqMixing)
      throw new LensError(
        'UNSUPPORTED_MODEL',
        model.engine instanceof ImportEngine
          ? 'Context mixing needs the value vectors of graphs this project builds; an imported ONNX encoder–decoder does not expose them: load the model’s Hugging Face folder instead.'
          : 'This model is not an encoder–decoder; its context mixing comes with the forward pass.',
      );
    return model.seq2seqMixing.compute(req, isCancelled);
  }),
);
