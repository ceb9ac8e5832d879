// Streams a run to a JSON file layer by layer ({"model", "tokens", "attention": [...]}), so 512-token runs never
// build one giant string (all maps at 512 tokens are ~150 MB as float32, far more as text).
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import type { LayerAttention, ModelFacts, Token } from '../runtime/types';
import { LensError } from '../runtime/errors';

export class JsonRunWriter {
  private layers = 0;

  private constructor(
    private readonly path: string,
    private readonly out: WriteStream,
  ) {}

  /** Opens (creates or replaces) the file; fails with a one-line LensError when it cannot be written. */
  static async open(path: string): Promise<JsonRunWriter> {
    const out = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      out.once('open', () => resolve());
      out.once('error', (e) => reject(new LensError('BAD_INPUT', `Cannot write --out ${path}: ${e.message}`)));
    });
    return new JsonRunWriter(path, out);
  }

  async begin(model: ModelFacts & { backend: string; threads: number }, tokens: Token[]): Promise<void> {
    const toks = tokens.map((t) => ({ id: t.id, text: t.text, start: t.start, end: t.end }));
    await this.write(`{"model":${JSON.stringify(model)},\n"tokens":${JSON.stringify(toks)},\n"attention":[`);
  }

  /** Appends one layer: data as [heads][query][key]. */
  async layer(a: LayerAttention): Promise<void> {
    const { heads, queryLength: nq, keyLength: nk, data } = a;
    await this.write(`${this.layers++ ? ',' : ''}\n{"layer":${a.layer},"kind":"${a.kind}","heads":${heads},"data":[`);
    for (let h = 0; h < heads; h++) {
      const rows: string[] = [];
      for (let q = 0; q < nq; q++) rows.push(`[${data.subarray((h * nq + q) * nk, (h * nq + q + 1) * nk).join(',')}]`);
      await this.write(`${h ? ',' : ''}[${rows.join(',')}]`);
    }
    await this.write(']}');
  }

  async end(): Promise<void> {
    await this.write('\n]}\n');
    await new Promise<void>((resolve, reject) => this.out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  }

  /** Closes and deletes a partly written file. */
  abort(): void {
    this.out.destroy();
    rmSync(this.path, { force: true });
  }

  private write(s: string): Promise<void> {
    if (this.out.write(s)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.out.off('error', onError);
        resolve();
      };
      const onError = (e: Error) => {
        this.out.off('drain', onDrain);
        reject(new LensError('BAD_INPUT', `Cannot write --out ${this.path}: ${e.message}`));
      };
      this.out.once('drain', onDrain);
      this.out.once('error', onError);
    });
  }
}
