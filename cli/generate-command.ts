// `attention-lens generate`: continues the text with the model (KV-cached, runtime/generate/), printing each
// generated token as it comes with the prompt tokens the row that wrote it attends to most (a layer, a head or the
// mean over heads), then the generated text; --out writes the run's layouts (JSON, CSV, NPY) over prompt + output,
// an NPY file with export's JSON sidecar beside it (FILE.npy.json).
import { randomInt } from 'node:crypto';
import path from 'node:path';
import { LensError } from '../runtime/errors';
import { OutputFile } from '../runtime/files/output-file';
import { GenerationMaps } from '../runtime/generate/generation-maps';
import { checkMaxNew } from '../runtime/generate/kv-generator';
import { loadGenerator, stopTokenIds, type LoadedGenerator } from '../runtime/generate/load-generator';
import type { Token } from '../runtime/types';
import { encodeChatPrompt } from '../runtime/tokenizers/chat-prompt';
import { npySidecar, writeData, type RunData } from '../writers/attention-data';
import { formatBytes } from '../writers/export-image';
import type { GenerateArgs } from './generate-args';
import { planNpySidecar, planOut, readCommandText, reportTo, warnOnStderr } from './command-files';
import { tokenLabel } from './format';
import { effectiveThreads } from './parse-options';
import { downloadReporter } from './download-progress';

/** How many prompt tokens each generated token's line names. */
const TOP = 3;

/** The `top` prompt keys (< promptLength) of a row [heads, keys] for one head or the mean over heads. */
export function topPromptKeys(
  row: Float32Array,
  heads: number,
  head: number | 'mean',
  promptLength: number,
  top: number,
): { key: number; weight: number }[] {
  const keys = row.length / heads;
  const w = new Float64Array(promptLength);
  for (let h = 0; h < heads; h++) {
    if (head !== 'mean' && h !== head) continue;
    for (let k = 0; k < promptLength; k++) w[k] += row[h * keys + k];
  }
  const scale = head === 'mean' ? 1 / heads : 1;
  return Array.from(w.keys())
    .sort((a, b) => w[b] - w[a] || a - b)
    .slice(0, top)
    .map((key) => ({ key, weight: w[key] * scale }));
}

export async function generateCommand(
  args: GenerateArgs,
  stdout: (s: string) => void,
  warn: (s: string) => void = warnOnStderr,
): Promise<void> {
  // Every check of the input and the output comes before the model loads.
  const text = await readCommandText(args, warn);
  const plan = args.out !== undefined ? planOut(args.out, args.model, { '--file': args.file }) : undefined;
  // An NPY file gets its JSON sidecar beside it, as export writes it (tokens, model, layer layout: what opens it as a
  // run again), planned with the same rules before the model loads; an NPY streamed to stdout has none.
  const sidecarPlan =
    args.format === 'npy' && plan ? planNpySidecar(plan, args.model, { '--file': args.file }) : undefined;
  const print = reportTo(plan, stdout);
  const threads = effectiveThreads(args.threads, warn);
  const sink = plan ? await OutputFile.open(plan) : undefined;
  let side: OutputFile | undefined;
  let loaded: LoadedGenerator | undefined;
  try {
    loaded = await loadGenerator(args.model, {
      backend: args.backend,
      threads,
      hub: { onWarning: warn },
      onDownload: downloadReporter(),
      maxTokens: 512 + args.maxNew,
    });
    const { generator, tokenizer } = loaded;
    const f = generator.facts;
    const layer = args.layer ?? f.layers - 1;
    if (layer >= f.layers)
      throw new LensError(
        'BAD_INPUT',
        `--layer ${layer} does not exist: the model has ${f.layers} layers (0–${f.layers - 1}).`,
      );
    if (typeof args.head === 'number' && args.head >= f.heads)
      throw new LensError(
        'BAD_INPUT',
        `--head ${args.head} does not exist: the model has ${f.heads} heads (0–${f.heads - 1}), or use mean.`,
      );
    // --chat: the text as a user message in the model's chat template; the output then stops at the end of the turn.
    let prompt = args.chat ? encodeChatPrompt(tokenizer, text, loaded.name) : tokenizer.encode(text);
    if (prompt.length === 0) throw new LensError('EMPTY_TEXT', 'The text has no tokens.');
    const room = f.maxPositions - args.maxNew;
    if (args.truncate && prompt.length > room && room > 0) {
      warn(
        `--truncate keeps the first ${room} of the prompt's ${prompt.length} tokens (room for --max-new ${args.maxNew}).`,
      );
      prompt = prompt.slice(0, room);
    }
    checkMaxNew(args.maxNew, prompt.length, f); // before anything is printed
    const sampled = args.temperature !== undefined && args.temperature > 0;
    const seed = sampled ? (args.seed ?? randomInt(0, 2 ** 31)) : undefined;
    print(
      `model      ${loaded.name} (${f.modelType}), ${f.layers} layers × ${f.heads} heads; ${generator.backend}, ${loaded.threads} thread${loaded.threads === 1 ? '' : 's'}`,
    );
    print(
      `prompt     ${prompt.length} tokens${args.chat ? ` (chat: ${prompt.filter((t) => t.template).length} of the template)` : ''}`,
    );
    print(
      sampled
        ? `sampling   temperature ${args.temperature}, top-p ${args.topP ?? 1}, seed ${seed}`
        : 'sampling   greedy',
    );
    const where = `layer ${layer}, ${args.head === 'mean' ? 'mean of heads' : `head ${args.head}`}`;
    print(`attention  each generated token, then the prompt tokens the row that wrote it attends to most (${where})`);
    const labels = prompt.map((t) => tokenLabel(t, text));
    const maps = new GenerationMaps(f.layers, f.heads);
    const stops = stopTokenIds(tokenizer, generator.source.config.eosTokenIds);
    const t0 = performance.now();
    let stopped = false;
    for await (const step of generator.generate(
      prompt.map((t) => t.id),
      { maxNew: args.maxNew, temperature: args.temperature, topP: args.topP, seed, stopIds: stops },
    )) {
      maps.add(step);
      if (step.kind !== 'token') continue;
      const top = topPromptKeys(maps.writerRow(layer, step.index), f.heads, args.head, prompt.length, TOP);
      const piece = tokenizer.idToToken(step.id) ?? String(step.id);
      const attended = top.map((t) => `${labels[t.key]} ${t.weight.toFixed(3)}`).join(', ');
      print(`  +${String(step.index + 1).padEnd(4)} ${JSON.stringify(piece).padEnd(16)} ← ${attended}`);
      if (step.end === 'stop') stopped = true;
    }
    const ms = performance.now() - t0;
    const gen = maps.generated;
    const kept = gen.filter((t) => !stops.has(t.id)).map((t) => t.id);
    print(`generated  ${JSON.stringify(tokenizer.decode(kept))}`);
    print(
      `stopped    ${stopped ? (args.chat ? 'at the end of the turn' : 'at an end-of-text token') : `after ${args.maxNew} tokens (--max-new)`}; ${gen.length} tokens in ${(ms / 1000).toFixed(2)} s (${((gen.length / ms) * 1000).toFixed(1)} tokens/s, prefill included)`,
    );
    if (sink && plan && args.format) {
      const outTokens: Token[] = gen.map((t) => ({
        id: t.id,
        text: tokenizer.idToToken(t.id) ?? '',
        start: null,
        end: null,
        special: stops.has(t.id),
        generated: true,
      }));
      const data: RunData = {
        model: { ...f, name: loaded.name, dir: loaded.dir },
        tokens: [...prompt, ...outTokens],
        layers: maps.maps(),
        source: {
          ...(args.file !== undefined ? { file: args.file } : {}),
          ...(args.chat ? { chat: true } : {}),
          generated: {
            promptTokens: prompt.length,
            generatedTokens: gen.length,
            ...(sampled ? { temperature: args.temperature, topP: args.topP ?? 1, seed } : { decoding: 'greedy' }),
          },
        },
      };
      await writeData(data, args.format, sink);
      await sink.finish();
      if (sidecarPlan) {
        side = await OutputFile.open(sidecarPlan);
        await side.write(npySidecar(data, path.basename(plan.given)));
        await side.finish();
      }
      // Both complete before either is put in place, the sidecar last.
      sink.place();
      side?.place();
      const S = prompt.length + gen.length;
      print(
        `wrote      ${args.out} (${args.format.toUpperCase()}: ${f.layers} layers × ${f.heads} heads × ${S} × ${S}, prompt ${prompt.length} + generated ${gen.length}, ${formatBytes(sink.bytes)})`,
      );
      if (sidecarPlan) print(`wrote      ${sidecarPlan.given} (its tokens, model and layer layout)`);
    }
  } catch (e) {
    sink?.abort();
    side?.abort();
    throw e;
  } finally {
    await loaded?.generator.dispose();
  }
}
