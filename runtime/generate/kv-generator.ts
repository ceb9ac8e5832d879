// Generation with attention over a KV cache: one prefill over the prompt returns every layer's keys and values and
// the prompt's attention; then one step per generated token feeds that token alone with the cached keys/values and
// returns its attention row ([heads, 1, past + 1] per layer) and the logits of the next token. Nothing is recomputed
// per token. The graph is decode-step.ts's (the family's own fragments); cancellation is checked between steps.
import { createSession, type Session } from '../backend/ort';
import { cancelled, LensError } from '../errors';
import { checkAttentionFinite, checkOutputFinite } from '../finite';
import { stepFeeds } from '../models/decode-feeds';
import { buildStepGraph, pastKey, pastValue, presentKey, presentValue } from '../models/decode-step';
import type { FeedTensor, PlanFacts } from '../models/plan';
import type { ModelSource } from '../models/source';
import type { ModelConfig } from '../formats/config-normalise';
import type { BackendName, LayerAttention } from '../types';
import { tokenChooser, type SamplingOptions } from './sampling';

export interface GeneratorOptions {
  backend: BackendName;
  threads: number;
  /** Return attention (default true); false builds the plain KV-cached decoder (the bench's baseline). */
  attention?: boolean;
}

export interface GenerateOptions extends SamplingOptions {
  /** Most tokens to generate (≥ 1). */
  maxNew: number;
  /** Tokens that end the output (EOS, end of turn): generated, given their row, and the run stops. */
  stopIds?: ReadonlySet<number>;
  signal?: AbortSignal;
  /** Also checked between steps (a worker's shared cancel flag). */
  isCancelled?: () => boolean;
  /** Fetch the prompt's attention from the prefill (default true); false: the prompt step's attention is empty. */
  promptAttention?: boolean;
  /** Fetch each generated token's row (default true); false: token steps' rows are empty (tokens only). */
  rows?: boolean;
}

/** The prompt's pass: every layer's attention [heads, P, P] (empty without attention). */
export interface PromptStep {
  kind: 'prompt';
  length: number;
  attention: LayerAttention[];
}

/** One generated token: its id, its position (prompt length + index), and per layer its attention row — the query
 * of this token over every key up to itself, [heads, position + 1] — (empty without attention). */
export interface TokenStep {
  kind: 'token';
  /** 0 for the first generated token. */
  index: number;
  id: number;
  position: number;
  rows: Float32Array[];
  /** Why the output ends here: a stop token, or --max-new reached. Absent: more follow. */
  end?: 'stop' | 'length';
}

/** Most new tokens one run generates. */
export const MAX_NEW_TOKENS = 4096;

/** Checks the number of tokens to generate after a prompt of `promptLength` tokens. */
export function checkMaxNew(
  maxNew: number,
  promptLength: number,
  facts: Pick<PlanFacts, 'maxPositions' | 'modelType'>,
) {
  if (!Number.isInteger(maxNew) || maxNew < 1 || maxNew > MAX_NEW_TOKENS)
    throw new LensError(
      'BAD_INPUT',
      `The number of new tokens must be a whole number from 1 to ${MAX_NEW_TOKENS}, not ${maxNew}.`,
    );
  if (promptLength + maxNew > facts.maxPositions) {
    const room = facts.maxPositions - promptLength;
    throw new LensError(
      'TOO_LONG',
      room > 0
        ? `The prompt has ${promptLength} tokens and ${maxNew} more would pass the ${facts.maxPositions} positions ` +
            `${facts.modelType} takes; generate at most ${room}.`
        : `The prompt has ${promptLength} tokens, and ${facts.modelType} takes ${facts.maxPositions} positions ` +
            'with the generated tokens; shorten the prompt (the CLI keeps its beginning with --truncate).',
    );
  }
}

/**
 * Where a generation must run its whole sequence again: Phi-3 with LongRoPE switches from its short to its long
 * factors once the sequence passes original_max_position_embeddings, and transformers' Phi3ForCausalLM drops the
 * cache the first time the input reaches that length + 1 (prepare_inputs_for_generation: the cached keys were rotated
 * with the short factors), recomputing every position with the long ones. Returns the position whose token is fed
 * that way (after a prompt of `promptLength` tokens), or -1 when none is.
 */
export function longRopeSwitch(config: Pick<ModelConfig, 'modelType' | 'rope'>, promptLength: number): number {
  const rope = config.rope;
  if (config.modelType !== 'phi3' || rope?.type !== 'longrope') return -1;
  return promptLength <= rope.originalMaxPositions ? rope.originalMaxPositions : -1;
}

/** A step's attention as the token's rows, [heads, keys] per layer: the step's own (one query), or the last query of
 * a pass over the whole sequence ([heads, T, T]). */
function lastRows(a: LayerAttention, whole: boolean): Float32Array {
  if (!whole) return a.data;
  const { heads: H, queryLength: T, keyLength: K } = a;
  const out = new Float32Array(H * K); // [H,K]
  for (let h = 0; h < H; h++) out.set(a.data.subarray((h * T + T - 1) * K, (h * T + T) * K), h * K);
  return out;
}

export class KvGenerator {
  private constructor(
    readonly source: ModelSource,
    readonly facts: PlanFacts,
    private readonly session: Session,
    private readonly attention: boolean,
  ) {}

  /** Builds the step graph (refusing a model that is not a causal LM) and its session. */
  static async create(source: ModelSource, options: GeneratorOptions): Promise<KvGenerator> {
    const attention = options.attention ?? true;
    const graph = buildStepGraph(source, { attention });
    const session = await createSession(graph.onnx, { backend: options.backend, threads: options.threads });
    return new KvGenerator(source, graph.facts, session, attention);
  }

  get backend(): BackendName {
    return this.session.backend;
  }

  /** Generates after `promptIds`: first the prompt's step, then one step per token. */
  async *generate(promptIds: readonly number[], options: GenerateOptions): AsyncGenerator<PromptStep | TokenStep> {
    const { layers: L, heads: H, kvHeads: KV, headDim: D, vocabSize: V } = this.facts;
    checkMaxNew(options.maxNew, promptIds.length, this.facts);
    const choose = tokenChooser(options);
    const empty = () =>
      Array.from({ length: 2 * L }, (): FeedTensor => ({
        type: 'float32',
        dims: [1, KV, 0, D],
        data: new Float32Array(0),
      }));
    let past: FeedTensor[] = empty(); // per layer: key [1,KV,P,D], value [1,KV,P,D]

    /** Runs `ids` after `P` cached positions; returns the next token's logits and each layer's attention. */
    const step = async (ids: readonly number[], P: number, withAttention: boolean) => {
      if (options.signal?.aborted || options.isCancelled?.()) throw cancelled();
      const feeds: Record<string, FeedTensor> = stepFeeds(ids, P, this.source.config);
      for (let l = 0; l < L; l++) {
        feeds[pastKey(l)] = past[2 * l];
        feeds[pastValue(l)] = past[2 * l + 1];
      }
      const fetches = ['logits'];
      for (let l = 0; l < L; l++) {
        if (withAttention) fetches.push(`attn_${l}`);
        fetches.push(presentKey(l), presentValue(l));
      }
      const out = await this.session.run(feeds, fetches);
      past = [];
      for (let l = 0; l < L; l++)
        for (const name of [presentKey(l), presentValue(l)]) {
          const t = out[name]; // [1,KV,P+T,D]
          past.push({ type: 'float32', dims: t.dims, data: t.data });
        }
      const logits = out.logits.data; // [1,1,V]
      checkOutputFinite('logits', logits, V);
      const attention: LayerAttention[] = [];
      if (withAttention)
        for (let l = 0; l < L; l++) {
          const a: LayerAttention = {
            layer: l,
            kind: 'causal',
            heads: H,
            queryLength: ids.length,
            keyLength: P + ids.length,
            data: out[`attn_${l}`].data, // [H,T,P+T]
          };
          checkAttentionFinite(a);
          attention.push(a);
        }
      return { logits, attention };
    };

    const P = promptIds.length;
    const rows = this.attention && options.rows !== false;
    const prompt = await step(promptIds, 0, rows && options.promptAttention !== false);
    yield { kind: 'prompt', length: P, attention: prompt.attention };
    const ids = [...promptIds];
    const recomputeAt = longRopeSwitch(this.source.config, P);
    let next = choose(prompt.logits);
    for (let index = 0; index < options.maxNew; index++) {
      const position = P + index;
      const id = next;
      ids.push(id);
      // Feeding the token gives its own attention row and the logits of the one after it. At a LongRoPE switch the
      // whole sequence runs again without the cache (its keys were rotated with the short factors), as transformers
      // does; the token's row is then the last row of that pass.
      const again = position === recomputeAt;
      if (again) past = empty();
      const s = again ? await step(ids, 0, rows) : await step([id], position, rows);
      const end = options.stopIds?.has(id) ? 'stop' : index + 1 === options.maxNew ? 'length' : undefined;
      const token: TokenStep = {
        kind: 'token',
        index,
        id,
        position,
        rows: s.attention.map((a) => lastRows(a, again)),
      };
      if (end) token.end = end;
      yield token;
      if (end) return;
      next = choose(s.logits);
    }
  }

  async dispose(): Promise<void> {
    await this.session.release();
  }
}
