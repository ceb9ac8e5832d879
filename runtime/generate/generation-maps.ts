// A generation's attention as the maps of a run over prompt + output: the prompt's block [heads, P, P] from the
// prefill and one row per generated token (its query over every key up to itself), zeros above the diagonal as a
// causal run has. The same [heads, query, key] layout as a run's layers, so every writer and view reads it.
import type { LayerAttention } from '../types';
import type { PromptStep, TokenStep } from './kv-generator';

export class GenerationMaps {
  private prompt: PromptStep | undefined;
  private readonly tokens: TokenStep[] = [];

  constructor(
    readonly layers: number,
    readonly heads: number,
  ) {}

  add(step: PromptStep | TokenStep): void {
    if (step.kind === 'prompt') this.prompt = step;
    else this.tokens.push(step);
  }

  get promptLength(): number {
    return this.prompt?.length ?? 0;
  }

  get generated(): readonly TokenStep[] {
    return this.tokens;
  }

  /** The row of query `position` in `layer`, [heads, position + 1]. */
  row(layer: number, position: number): Float32Array {
    const P = this.promptLength;
    const H = this.heads;
    if (position >= P) return this.tokens[position - P].rows[layer];
    const a = this.prompt!.attention[layer]; // [H,P,P]
    const out = new Float32Array(H * (position + 1)); // [H, position + 1]
    for (let h = 0; h < H; h++)
      out.set(a.data.subarray((h * P + position) * P, (h * P + position) * P + position + 1), h * (position + 1));
    return out;
  }

  /** The row that wrote generated token `index`: the query just before it (the prompt's last for the first). */
  writerRow(layer: number, index: number): Float32Array {
    return this.row(layer, this.promptLength + index - 1);
  }

  /** Every layer over prompt + generated tokens: [heads, S, S] with S = P + generated. */
  maps(): LayerAttention[] {
    const P = this.promptLength;
    const S = P + this.tokens.length;
    const H = this.heads;
    return Array.from({ length: this.layers }, (_, l) => {
      const data = new Float32Array(H * S * S); // [H,S,S]
      const a = this.prompt!.attention[l].data; // [H,P,P]
      for (let h = 0; h < H; h++)
        for (let q = 0; q < P; q++) data.set(a.subarray((h * P + q) * P, (h * P + q + 1) * P), (h * S + q) * S);
      for (const t of this.tokens) {
        const n = t.position + 1;
        for (let h = 0; h < H; h++) data.set(t.rows[l].subarray(h * n, (h + 1) * n), (h * S + t.position) * S);
      }
      return { layer: l, kind: 'causal' as const, heads: H, queryLength: S, keyLength: S, data };
    });
  }
}
