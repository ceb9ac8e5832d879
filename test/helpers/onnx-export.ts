// What the ONNX import tests share: the family graph of a test model written as an .onnx export WITHOUT attention
// outputs (what a user would bring), its weights moved to an external data file as onnx.save_model does, and the
// independent expectation — every layer's attention from the builder's own graph WITH attention outputs.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createSession } from '../../runtime/backend/ort';
import { encodeModel, ModelProto, type ModelMsg } from '../../runtime/formats/onnx-schema';
import type { FeedTensor } from '../../runtime/models/plan';
import { buildFullGraph, buildPlan, type ModelSource } from '../../runtime/models/read-model';
import { fixtureModel } from './fixtures';

const ROOT = path.resolve(__dirname, '../..');

/** The three real test models the ONNX tests export (test/fixtures, and the default model's cache folder). */
export const TEST_MODELS = {
  stories260K: fixtureModel('stories260K'),
  'tiny-gpt2': fixtureModel('tiny-gpt2'),
  'all-MiniLM-L6-v2': path.join(ROOT, '.cache/models/all-MiniLM-L6-v2'),
};
export type TestModelName = keyof typeof TEST_MODELS;

/** A test model's folder; throws with how to get it when it is missing. */
export function testModelDir(name: TestModelName): string {
  const dir = TEST_MODELS[name];
  if (!existsSync(path.join(dir, 'model.safetensors')))
    throw new Error(`Test model ${name} is missing at ${dir} (all-MiniLM-L6-v2: node scripts/fetch-model.mjs).`);
  return dir;
}

/** Writes a synthetic encoder + decoder pair (optimum's file names) into `dir`; returns its OnnxLayout. */
export function writeSeq2Seq(
  dir: string,
  encoder: Uint8Array,
  decoder: Uint8Array,
): { encoder: string; model: string; dir: string } {
  writeFileSync(path.join(dir, 'encoder_model.onnx'), encoder);
  writeFileSync(path.join(dir, 'decoder_model.onnx'), decoder);
  return { encoder: path.join(dir, 'encoder_model.onnx'), model: path.join(dir, 'decoder_model.onnx'), dir };
}

export const SIDE_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];

/** Writes the family's full graph without attention outputs as <out>/<file>, with the tokenizer and config. */
export function exportOnnx(source: ModelSource, from: string, out: string, file = 'model.onnx', sideDir = out): void {
  mkdirSync(path.dirname(path.join(out, file)), { recursive: true });
  writeFileSync(path.join(out, file), buildFullGraph(source, { attentionOutputs: false }).onnx);
  for (const f of SIDE_FILES)
    if (existsSync(path.join(from, f))) copyFileSync(path.join(from, f), path.join(sideDir, f));
}

/** Decoded without defaults, so re-encoding writes back exactly the fields the graph had. */
export function decodeExact(bytes: Uint8Array): ModelMsg {
  return ModelProto.toObject(ModelProto.decode(bytes), {
    longs: Number,
    arrays: true,
    bytes: Uint8Array,
  }) as ModelMsg;
}

/** Moves every initializer of `file` over 64 bytes into `data` beside it (as onnx.save_model does). */
export function externalize(file: string, data = `${path.basename(file)}_data`): void {
  const model = decodeExact(readFileSync(file));
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of model.graph!.initializer) {
    const raw = t.rawData;
    if (!raw || raw.length <= 64) continue;
    chunks.push(Buffer.from(raw));
    t.externalData = [
      { key: 'location', value: data },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    t.dataLocation = 1;
    t.rawData = new Uint8Array(0);
    offset += raw.length;
  }
  writeFileSync(path.join(path.dirname(file), data), Buffer.concat(chunks));
  writeFileSync(file, encodeModel(model));
}

/** Every layer's attention [heads, query, key] from the builder's own full graph with attention outputs (batch 1). */
export async function builderAttention(source: ModelSource, ids: number[]): Promise<Float32Array[]> {
  const full = buildFullGraph(source, { attentionOutputs: true });
  const feeds = buildPlan(source).feeds({ ids: [ids], mask: [ids.map(() => 1)] });
  const all: Record<string, FeedTensor> = { ...feeds.embed, ...feeds.layer };
  const session = await createSession(full.onnx, { backend: 'native', threads: 1 });
  try {
    const names = full.outputNames.filter((n) => n.startsWith('attn_'));
    const inputs = Object.fromEntries(full.inputNames.map((n) => [n, all[n]]));
    const out = await session.run(inputs, names);
    return names.map((n) => out[n].data);
  } finally {
    await session.release();
  }
}

/** The largest absolute difference of two same-sized arrays. */
export function maxDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, 'same size');
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
}
