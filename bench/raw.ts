// The baseline the inspector is measured against: the whole model as ONE onnxruntime session without attention
// outputs (buildFullGraph), fed with the same per-run feeds, on the same backend and threads, in this process.
// Without an LM head over every position: onnxruntime computes every node even unfetched, the inspector's layer
// stages stop at the final norm, and PyTorch's bench keeps one position's logits (logits_to_keep=1); SmolLM2's
// [512, 49,152] logits were ~25 % of this baseline's CPU time (bench/raw-variants.ts), so like is compared with like.
import { createSession, type Session } from '../runtime/backend/ort';
import { buildFullGraph, type ModelSource } from '../runtime/models/read-model';
import { computeFeeds } from '../runtime/models/feeds';
import type { FeedTensor } from '../runtime/models/plan';
import type { BackendName } from '../runtime/types';

export class RawModel {
  private constructor(
    private readonly session: Session,
    private readonly source: ModelSource,
    private readonly inputNames: string[],
  ) {}

  static async create(source: ModelSource, backend: BackendName, threads: number): Promise<RawModel> {
    const full = buildFullGraph(source, { attentionOutputs: false, logits: false });
    const session = await createSession(full.onnx, { backend, threads });
    return new RawModel(session, source, full.inputNames);
  }

  /** One forward pass; returns milliseconds (feeds included, as the inspector's run includes them). */
  async run(ids: number[]): Promise<number> {
    const t0 = performance.now();
    const f = computeFeeds({ ids: [ids], mask: [ids.map(() => 1)] }, this.source.config);
    const all: Record<string, FeedTensor> = { ...f.embed, ...f.layer };
    const feeds: Record<string, FeedTensor> = {};
    for (const n of this.inputNames) feeds[n] = all[n];
    await this.session.run(feeds, ['last_hidden']);
    return performance.now() - t0;
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
