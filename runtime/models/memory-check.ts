// The memory check every load makes before starting its worker (memory-estimate.ts says why the estimate is what it
// is): reads only a model's config and tensor shapes (safetensors headers, the GGUF header), or an ONNX export's
// file sizes, and refuses a model that will not fit in the memory available now.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { readConfig } from '../formats/config';
import { openWeights } from '../formats/safetensors';
import { readGgufModel } from './gguf-source';
import { checkFits, estimateFamilyMemory, estimateOnnxMemory, type MemoryEstimate } from './memory-estimate';
import type { ResolvedModel } from './source-resolver';

function fileBytes(p: string): number {
  try {
    return fs.statSync(p).size;
  } catch {
    return 0;
  }
}

/** The estimate for a resolved model, or undefined when its config cannot be read (the load reports why). */
export async function estimateResolved(resolved: ResolvedModel, tokens: number): Promise<MemoryEstimate | undefined> {
  try {
    if (resolved.kind === 'gguf') {
      const source = readGgufModel(resolved.file);
      const w = source.weights;
      return estimateFamilyMemory(
        source.config,
        w.names().map((name) => ({ name, shape: w.shape(name) })),
        tokens,
      );
    }
    if (resolved.kind === 'folder') {
      const config = await readConfig(resolved.dir);
      const w = await openWeights(resolved.dir);
      return estimateFamilyMemory(
        config,
        w.names().map((name) => ({ name, shape: w.shape(name) })),
        tokens,
      );
    }
    const { model, encoder, step } = resolved.layout;
    const files = [model, encoder, step].filter((f) => f !== undefined);
    let bytes = 0;
    for (const f of files) {
      bytes += fileBytes(f);
      const dir = path.dirname(f);
      const base = path.basename(f);
      for (const g of fs.readdirSync(dir))
        if (g !== base && g.startsWith(base) && /(_data|\.data)(_\d+)?$/.test(g)) bytes += fileBytes(path.join(dir, g));
    }
    return estimateOnnxMemory(bytes, tokens);
  } catch {
    return undefined;
  }
}

/** Refuses (LensError MODEL_TOO_LARGE) a model whose estimate exceeds the memory available now. */
export async function checkModelFits(
  resolved: ResolvedModel,
  tokens: number,
  available: number = os.freemem(),
): Promise<MemoryEstimate | undefined> {
  const estimate = await estimateResolved(resolved, tokens);
  if (estimate) checkFits(estimate, available, resolved.name);
  return estimate;
}
