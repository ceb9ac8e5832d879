// Reads an encoder–decoder model folder (config.json of marian, bart or t5 + safetensors weights). Node only.
import * as path from 'node:path';
import { LensError } from '../errors';
import { openWeights } from '../formats/safetensors';
import { isSeq2SeqConfig, normaliseSeq2SeqConfig } from './seq2seq-config';
import { readGeneration, type Seq2SeqGeneration } from './seq2seq-generation';
import type { Seq2SeqSource } from './seq2seq-source';
import { CONFIG_FILE_MAX_BYTES, readSideFileSync } from '../files/side-file';

/** The parsed config.json of a folder, or undefined when it has none or it is not JSON (readModel says why). */
export function peekConfig(dir: string): Record<string, unknown> | undefined {
  return readJsonObject(path.join(dir, 'config.json'));
}

/** A JSON file holding an object, or undefined when it is absent or not such a file. */
export function readJsonObject(file: string): Record<string, unknown> | undefined {
  try {
    const raw: unknown = JSON.parse(readSideFileSync(file, 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES).toString('utf8'));
    return typeof raw === 'object' && raw !== null && !Array.isArray(raw)
      ? (raw as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** True when `dir` holds an encoder–decoder model of a supported family. */
export function isSeq2SeqFolder(dir: string): boolean {
  const raw = peekConfig(dir);
  return raw !== undefined && isSeq2SeqConfig(raw);
}

export async function readSeq2SeqModel(dir: string): Promise<Seq2SeqSource> {
  const raw = peekConfig(dir);
  if (!raw) throw new LensError('NO_CONFIG', `The folder ${dir} has no readable config.json.`);
  const config = normaliseSeq2SeqConfig(raw, `config.json in ${dir}`);
  return { config, generation: readFolderGeneration(dir, raw), weights: await openWeights(dir), dir };
}

/** The decoding settings of a folder's generation_config.json (config.json's `raw` without one): a model folder's
 * or an ONNX export's. */
export function readFolderGeneration(dir: string, raw: Record<string, unknown> | undefined): Seq2SeqGeneration {
  return readGeneration(readJsonObject(path.join(dir, 'generation_config.json')), raw);
}
