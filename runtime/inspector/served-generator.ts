// Generation in an inference worker with the model it already holds: the first `generate` request builds the
// KV-cached step graph (runtime/models/decode-step.ts) from the model source the worker opened for its stages (in
// Node a reader of the file's tensors, in the browser the fetched bytes) into one more session, kept for later
// requests (its own copy of the weights: bench/load-memory.ts --held); each generated token is sent the moment its
// step returns (its rows moved, not copied) and a cancel is seen between steps. Shared by both inference workers
// (worker-loop.ts); no Node imports.
import { LensError } from '../errors';
import { KvGenerator } from '../generate/kv-generator';
import type { ModelSource } from '../models/source';
import type { BackendName } from '../types';
import { own } from './transfer';
import type { GenerateDone, GeneratedToken, GenerateRequest } from './worker-protocol';

export interface GenerateControl {
  isCancelled(): boolean;
  emit(event: GeneratedToken, transfer: ArrayBuffer[]): void;
}

export class ServedGenerator {
  private generator: Promise<KvGenerator> | undefined;

  /** `source` undefined: the model cannot generate here (an ONNX import, a synthetic encoder): `why` says so. */
  constructor(
    private readonly source: ModelSource | undefined,
    private readonly backend: () => BackendName,
    private readonly threads: number,
    private readonly why = 'this model cannot generate here',
  ) {}

  async generate(req: GenerateRequest, control: GenerateControl): Promise<GenerateDone> {
    const t0 = performance.now();
    const source = this.source;
    if (!source) throw new LensError('UNSUPPORTED_MODEL', `Cannot continue the text: ${this.why}.`);
    if (source.config.family === 'bert')
      throw new LensError(
        'UNSUPPORTED_MODEL',
        `${source.config.modelType} is an encoder, not a causal language model, so it cannot continue text; ` +
          'use a decoder such as gpt2, llama, qwen2 or a GGUF chat model.',
      );
    this.generator ??= KvGenerator.create(source, { backend: this.backend(), threads: this.threads });
    let generator: KvGenerator;
    try {
      generator = await this.generator;
    } catch (e) {
      this.generator = undefined; // a later request tries again
      throw e;
    }
    let count = 0;
    let end: GenerateDone['end'] = 'length';
    for await (const step of generator.generate(req.ids, {
      maxNew: req.maxNew,
      temperature: req.temperature,
      topP: req.topP,
      seed: req.seed,
      stopIds: new Set(req.stopIds),
      isCancelled: () => control.isCancelled(),
      promptAttention: false,
      rows: req.rows,
    })) {
      if (step.kind !== 'token') continue;
      const rows = step.rows.map(own);
      const token: GeneratedToken = { index: step.index, id: step.id, position: step.position, rows };
      if (step.end) token.end = end = step.end;
      count++;
      control.emit(
        token,
        rows.map((r) => r.buffer as ArrayBuffer),
      );
    }
    return { count, end, ms: performance.now() - t0 };
  }

  /** Releases the step session, if one was built. */
  async release(): Promise<void> {
    const g = this.generator;
    this.generator = undefined;
    await (await g?.catch(() => undefined))?.dispose();
  }
}
