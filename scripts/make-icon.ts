// The extension's Marketplace icon (media/icon.png, 128 × 128), drawn by the project's own renderer from a real
// run: all-MiniLM-L6-v2 (`npm run fetch-model`) on one sentence of 16 tokens, one head's attention [query, key]
// coloured with viridis as a figures/ scene (16 × 16 cells of 8 px), rasterised by writers/png.ts and written through
// the atomic writer. Rerun after a change to the colour map or the renderer; the output is committed.
//   npx tsx scripts/make-icon.ts [--layer L] [--head H] [--out media/icon.png]
import { join } from 'node:path';
import { load } from '../runtime/inspector/load-model';
import { colorize, colorLut } from '../figures/colormap';
import type { Scene } from '../figures/scene';
import { PAPER } from '../figures/theme';
import { sceneToPng } from '../writers/png';
import { planOutput } from '../runtime/files/output-target';
import { writeOutput } from '../runtime/files/output-file';
import { modelFiles } from '../runtime/files/model-files';

const repo = join(__dirname, '..');
const args = process.argv.slice(2);
const arg = (name: string, fallback: string) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const MODEL = join(repo, '.cache', 'models', 'all-MiniLM-L6-v2');
// 16 tokens with [CLS] and [SEP].
const TEXT = 'The lens shows which words each head of the model reads and why.';
const SIZE = 128;
const TOKENS = 16;
const CELL = SIZE / TOKENS;

async function main(): Promise<void> {
  const layer = Number(arg('--layer', '1'));
  const head = Number(arg('--head', '2'));
  const out = arg('--out', join(repo, 'media', 'icon.png'));
  const inspector = await load(MODEL, { backend: 'auto', workerPath: join(repo, 'dist', 'worker.js') });
  try {
    const run = inspector.run(TEXT);
    let data: Float32Array | undefined; // [query, key] of the chosen head
    for await (const l of run) {
      if (l.layer !== layer) continue;
      if (l.queryLength !== TOKENS || l.keyLength !== TOKENS)
        throw new Error(`the sentence has ${l.queryLength} tokens, the icon needs ${TOKENS}`);
      if (head >= l.heads) throw new Error(`layer ${layer} has ${l.heads} heads`);
      data = l.data.slice(head * TOKENS * TOKENS, (head + 1) * TOKENS * TOKENS);
    }
    if (!data) throw new Error(`the model has no layer ${layer}`);
    // Each row on its own maximum, as the panel's matrix shows a query's spread (rows of a softmax sum to 1).
    const rows = new Float32Array(data.length); // [query, key]
    for (let q = 0; q < TOKENS; q++) {
      let max = 0;
      for (let k = 0; k < TOKENS; k++) max = Math.max(max, data[q * TOKENS + k]);
      for (let k = 0; k < TOKENS; k++) rows[q * TOKENS + k] = max > 0 ? Math.sqrt(data[q * TOKENS + k] / max) : 0;
    }
    const scene: Scene = {
      width: SIZE,
      height: SIZE,
      background: PAPER.background,
      fontFamily: PAPER.fontFamily,
      title: `Attention Lens: all-MiniLM-L6-v2 layer ${layer} head ${head}`,
      notes: [TEXT],
      items: [
        {
          kind: 'image',
          role: 'matrix',
          x: 0,
          y: 0,
          cellW: CELL,
          cellH: CELL,
          rows: TOKENS,
          cols: TOKENS,
          rgba: colorize(rows, undefined, colorLut('viridis'), 1, PAPER.masked),
        },
      ],
      regions: [],
      targets: [],
    };
    const png = await sceneToPng(scene, 1);
    await writeOutput(planOutput(out, modelFiles(MODEL), 'icon'), png);
    console.log(`${out}: ${png.length} bytes (layer ${layer}, head ${head})`);
  } finally {
    await inspector.dispose();
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
