// Streams a run to a JSON output layer by layer ({"model", "tokens", "attention": [...]}), so 512-token runs never
// build one giant string (all maps at 512 tokens are ~150 MB as float32, far more as text). It writes into an
// OutputFile (a temporary file renamed into place only when the run completes). A non-finite value (which the
// engine already stops a run for) is written as null, never as a bare NaN that would make the file invalid JSON.
import type { LayerAttention, ModelFacts, Token } from '../runtime/types';
import { LensError } from '../runtime/errors';
import { firstNonFinite } from '../runtime/finite';
import type { OutputFile } from '../runtime/files/output-file';
import type { RunTargetResult } from '../runtime/inspector/api';

/** The largest JSON `run --out` writes, estimated at 8 bytes a weight (a float32 as text is 1–22 characters; masked
 * zeros are "0"): past it a file is slow to write and to read, and each map is better read as NPY. */
export const JSON_LIMIT_BYTES = 2 ** 30;

/** Refuses, before the run starts, a JSON output of every map that would be larger than JSON_LIMIT_BYTES. */
export function checkJsonSize(facts: Pick<ModelFacts, 'layers' | 'heads'>, tokens: number): void {
  const weights = facts.layers * facts.heads * tokens * tokens;
  const bytes = weights * 8;
  if (bytes <= JSON_LIMIT_BYTES) return;
  const gb = (bytes / 1e9).toFixed(1);
  throw new LensError(
    'BAD_INPUT',
    `--out would write at least ${gb} GB of JSON (${facts.layers} layers × ${facts.heads} heads × ${tokens}² weights); ` +
      'use --out FOLDER/ (a path ending in /), which writes one NPY per layer, or run less text.',
  );
}

/** Refuses, before the run starts, a JSON output of a run kept for long inputs: it holds no maps to write. */
export function checkJsonKept(facts: Pick<ModelFacts, 'layers' | 'heads'>, tokens: number, kept: boolean): void {
  if (!kept) return;
  const gb = ((facts.layers * facts.heads * tokens * tokens * 4) / 1e9).toFixed(1);
  throw new LensError(
    'BAD_INPUT',
    `A run of ${tokens} tokens is kept for long inputs (its maps would take ${gb} GB), so --out cannot write it as one JSON; use --out FOLDER/ (a path ending in /), which streams one NPY per layer.`,
  );
}

/** Tokens as the JSON lists them. */
export function tokenJson(tokens: readonly Token[]) {
  return tokens.map((t) => ({
    id: t.id,
    text: t.text,
    start: t.start,
    end: t.end,
    ...(t.template ? { template: true } : {}),
  }));
}

/** An encoder–decoder run's target as top-level JSON fields: row i of every decoder and cross map is the decoder
 * reading decoder_input_tokens[i] and predicting target_tokens[i], with log-probability target_logprobs[i]. */
export function targetJson(target: RunTargetResult, translation?: string): Record<string, unknown> {
  return {
    target_tokens: tokenJson(target.tokens),
    decoder_input_tokens: tokenJson(target.decoderInput),
    target_logprobs: target.logprobs,
    target_mode: target.mode,
    ...(target.end ? { target_end: target.end } : {}),
    ...(target.mode === 'translated' ? { target_beams: target.beams ?? 1 } : {}),
    ...(translation !== undefined ? { translation } : {}),
  };
}

/** A row of numbers as JSON text. */
function jsonRow(row: Float32Array): string {
  if (firstNonFinite(row) < 0) return `[${row.join(',')}]`;
  return `[${Array.from(row, (x) => (Number.isFinite(x) ? String(x) : 'null')).join(',')}]`;
}

export class JsonRunWriter {
  private layers = 0;

  constructor(private readonly out: OutputFile) {}

  /** Writes the model and the tokens (an encoder–decoder's: as "source_tokens" too). */
  async begin(model: ModelFacts & { backend: string; threads: number }, tokens: Token[]): Promise<void> {
    const toks = JSON.stringify(tokenJson(tokens));
    const source = model.encoderDecoder ? `\n"source_tokens":${toks},` : '';
    await this.out.write(`{"model":${JSON.stringify(model)},\n"tokens":${toks},${source}\n"attention":[`);
  }

  /** Appends one layer: data as [heads][query][key]. */
  async layer(a: LayerAttention): Promise<void> {
    const { heads, queryLength: nq, keyLength: nk, data } = a;
    await this.out.write(
      `${this.layers++ ? ',' : ''}\n{"layer":${a.layer},"kind":"${a.kind}",` +
        (a.stackLayer !== undefined ? `"stack_layer":${a.stackLayer},` : '') +
        `"heads":${heads},"data":[`,
    );
    for (let h = 0; h < heads; h++) {
      const rows: string[] = [];
      for (let q = 0; q < nq; q++) rows.push(jsonRow(data.subarray((h * nq + q) * nk, (h * nq + q + 1) * nk)));
      await this.out.write(`${h ? ',' : ''}[${rows.join(',')}]`);
    }
    await this.out.write(']}');
  }

  /** Closes the document (after `extra` top-level fields: an encoder–decoder's target) and puts the file in place. */
  async end(extra: Record<string, unknown> = {}): Promise<void> {
    const fields = Object.entries(extra).map(([k, v]) => `,\n${JSON.stringify(k)}:${JSON.stringify(v)}`);
    await this.out.write(`\n]${fields.join('')}}\n`);
    await this.out.commit();
  }
}
