// Streams a run to a JSON output layer by layer ({"model", "tokens", "attention": [...]}), so 512-token runs never
// build one giant string (all maps at 512 tokens are ~150 MB as float32, far more as text). It writes into an
// OutputFile (a temporary file renamed into place only when the run completes). A non-finite value (which the
// engine already stops a run for) is written as null, never as a bare NaN that would make the file invalid JSON.
import type { LayerAttention, ModelFacts, Token } from '../runtime/types';
import { firstNonFinite } from '../runtime/finite';
import type { OutputFile } from '../runtime/files/output-file';

/** A row of numbers as JSON text. */
function jsonRow(row: Float32Array): string {
  if (firstNonFinite(row) < 0) return `[${row.join(',')}]`;
  return `[${Array.from(row, (x) => (Number.isFinite(x) ? String(x) : 'null')).join(',')}]`;
}

export class JsonRunWriter {
  private layers = 0;

  constructor(private readonly out: OutputFile) {}

  async begin(model: ModelFacts & { backend: string; threads: number }, tokens: Token[]): Promise<void> {
    const toks = tokens.map((t) => ({
      id: t.id,
      text: t.text,
      start: t.start,
      end: t.end,
      ...(t.template ? { template: true } : {}),
    }));
    await this.out.write(`{"model":${JSON.stringify(model)},\n"tokens":${JSON.stringify(toks)},\n"attention":[`);
  }

  /** Appends one layer: data as [heads][query][key]. */
  async layer(a: LayerAttention): Promise<void> {
    const { heads, queryLength: nq, keyLength: nk, data } = a;
    await this.out.write(
      `${this.layers++ ? ',' : ''}\n{"layer":${a.layer},"kind":"${a.kind}","heads":${heads},"data":[`,
    );
    for (let h = 0; h < heads; h++) {
      const rows: string[] = [];
      for (let q = 0; q < nq; q++) rows.push(jsonRow(data.subarray((h * nq + q) * nk, (h * nq + q + 1) * nk)));
      await this.out.write(`${h ? ',' : ''}[${rows.join(',')}]`);
    }
    await this.out.write(']}');
  }

  /** Closes the document and puts the file in place. */
  async end(): Promise<void> {
    await this.out.write('\n]}\n');
    await this.out.commit();
  }
}
