// The three models of the WebGPU tests (and the hf-tiny families of the page test) and the text each runs on
// (shared by the page tests, the real-VS-Code suite and the benchmark). Paths are relative to the repository (the
// extension's folder in the real-VS-Code suite).
import { join, resolve } from 'node:path';

export interface TestModel {
  name: string;
  dir: string;
  text: string;
}

export function testModels(repo: string): TestModel[] {
  const models = resolve(repo, 'test', 'fixtures', 'models');
  return [
    {
      name: 'stories260K',
      dir: join(models, 'stories260K'),
      text: 'Once upon a time, there was a little girl named Lily. She',
    },
    { name: 'tiny-gpt2', dir: join(models, 'tiny-gpt2'), text: 'Attention is all you need, they said.' },
    {
      name: 'all-MiniLM-L6-v2',
      dir: resolve(repo, '.cache', 'models', 'all-MiniLM-L6-v2'),
      text: 'The cat sat on the mat because it was tired.',
    },
  ];
}

/** RoPE decoder families checked in the page only (test/fixtures/models/hf-tiny; golden values from transformers):
 * gemma2 has sliding-window and global layers, attention soft-capping (Tanh), sandwich norms and (1 + w) RMSNorm;
 * gemma3 q/k norms and a second RoPE table for its sliding layers. */
export function familyModels(repo: string): TestModel[] {
  const text = 'The librarian said that attention lets each word in the small café look back at the words before it.';
  return ['gemma2', 'gemma3'].map((f) => ({
    name: f,
    dir: join(repo, 'test', 'fixtures', 'models', 'hf-tiny', f),
    text,
  }));
}

/** Largest |a - b| over two layer lists of equal shapes (throws on a shape mismatch). */
export function maxAbsDiff(got: { layer: number; data: ArrayLike<number> }[], want: ArrayLike<number>[]): number {
  if (got.length !== want.length) throw new Error(`expected ${want.length} layers, got ${got.length}`);
  let max = 0;
  for (const l of got) {
    const w = want[l.layer];
    if (!w || w.length !== l.data.length)
      throw new Error(`layer ${l.layer}: ${l.data.length} values, expected ${w?.length ?? 'no layer'}`);
    for (let i = 0; i < w.length; i++) max = Math.max(max, Math.abs(l.data[i] - w[i]));
  }
  return max;
}
