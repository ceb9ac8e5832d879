// What an imported graph says about its model beyond the attention: config.json beside it when there is one
// (model_type, vocabulary, positions, hidden size — any architecture, supported by a family or not), the vocabulary
// size from the token-embedding table otherwise, and which output is the last hidden state.
import * as path from 'node:path';
import { normaliseConfig, type ModelConfig } from '../formats/config';
import type { GraphIndex } from './graph-index';
import { CONFIG_FILE_MAX_BYTES, readSideFileSync } from '../files/side-file';

export interface ConfigInfo {
  /** config.json as read, when the folder has one that parses. */
  raw?: Record<string, unknown>;
  /** The normalised config when its model_type has a family (its feeds can then fill Attention Lens's exports). */
  config?: ModelConfig;
}

export function readConfigInfo(dir: string): ConfigInfo {
  let raw: unknown;
  try {
    raw = JSON.parse(
      readSideFileSync(path.join(dir, 'config.json'), 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES).toString('utf8'),
    );
  } catch {
    return {};
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return {};
  const obj = raw as Record<string, unknown>;
  try {
    return { raw: obj, config: normaliseConfig(obj) };
  } catch {
    return { raw: obj };
  }
}

/** The first positive integer among config fields `names`. */
export function configInt(raw: Record<string, unknown> | undefined, names: string[]): number | undefined {
  for (const n of names) {
    const v = raw?.[n];
    if (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) return v;
  }
  return undefined;
}

/** Rows of the embedding table that input_ids index (a Gather on an initializer, possibly after a Cast). */
export function vocabFromGraph(index: GraphIndex): number | undefined {
  const ids = index.inputs.find((v) => v.name === 'input_ids' || v.name === 'decoder_input_ids')?.name;
  if (!ids) return undefined;
  const frontier = [ids];
  for (let depth = 0; depth < 3 && frontier.length > 0; depth++) {
    const t = frontier.shift()!;
    for (const c of index.consumers.get(t) ?? []) {
      const n = index.nodes[c];
      if (n.opType === 'Gather' && n.input?.[1] === t) {
        const dims = index.initializerDims.get(n.input[0] ?? '');
        if (dims && dims.length === 2 && dims[0] > 0) return dims[0];
      }
      if (n.opType === 'Cast' && n.output?.[0]) frontier.push(n.output[0]);
    }
  }
  return undefined;
}

const HIDDEN_OUTPUTS = ['last_hidden_state', 'last_hidden', 'encoder_last_hidden_state', 'hidden_states'];

/** The tensor to report as the last hidden state [B,S,E]: a named output, the input of the LM head, or undefined. */
export function hiddenTensor(index: GraphIndex): string | undefined {
  const outputs = index.graph.output ?? [];
  const named = HIDDEN_OUTPUTS.map((n) => outputs.find((o) => o.name === n)).find((o) => o);
  if (named) return named.name;
  const logits = outputs.find((o) => o.name === 'logits');
  if (logits) {
    const p = index.producer.get(logits.name);
    const n = p === undefined ? undefined : index.nodes[p];
    if (n && (n.opType === 'MatMul' || n.opType === 'FusedMatMul')) return n.input?.[0];
    if (n?.opType === 'Add') {
      for (const x of n.input ?? []) {
        const q = index.producer.get(x);
        const m = q === undefined ? undefined : index.nodes[q];
        if (m && (m.opType === 'MatMul' || m.opType === 'FusedMatMul')) return m.input?.[0];
      }
    }
    return undefined;
  }
  const rank3 = outputs.find((o) => (o.type?.tensorType?.shape?.dim?.length ?? 0) === 3);
  return rank3?.name;
}
