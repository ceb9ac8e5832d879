// The entry point for everything that loads models: reads a folder (config + weights), maps config.json's
// model_type to a family, and builds that family's staged plan or single full graph (builders.ts, pure).
import * as fs from 'node:fs';
import { LensError } from '../errors';
import { readConfig, SUPPORTED_MODEL_TYPES } from '../formats/config';
import { openWeights } from '../formats/safetensors';
import type { ModelSource } from './source';

export { buildFullGraph, buildPlan } from './builders';
export type { ModelSource } from './source';
export type { ModelConfig } from '../formats/config';
export type { WeightStore } from '../formats/safetensors';

/** config.json model_type values that can be loaded. */
export const supportedModelTypes: readonly string[] = Object.keys(SUPPORTED_MODEL_TYPES);

/** Reads config.json and opens the weights of a Hugging Face model folder. */
export async function readModel(dir: string): Promise<ModelSource> {
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(dir);
  } catch {
    throw new LensError('MODEL_NOT_FOUND', `The model folder ${dir} does not exist; check the path.`);
  }
  if (!stat.isDirectory())
    throw new LensError('MODEL_NOT_FOUND', `${dir} is not a folder; point to the model's folder (with config.json).`);
  try {
    await fs.promises.access(dir, fs.constants.R_OK | fs.constants.X_OK);
  } catch {
    throw new LensError('MODEL_NOT_FOUND', `The model folder ${dir} cannot be read; check its permissions.`);
  }
  const config = await readConfig(dir);
  const weights = await openWeights(dir);
  return { config, weights, dir };
}
