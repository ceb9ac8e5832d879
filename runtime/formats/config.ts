// Reads a Hugging Face config.json from a model folder and normalises it (config-normalise.ts, re-exported here: the
// field-name zoo of the supported architectures becomes one ModelConfig). Unsupported architectures and missing
// fields fail with a message that names the field or the type.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { parseConfig, type ModelConfig } from './config-normalise';

export * from './config-normalise';

/** Reads and normalises `dir`/config.json. */
export async function readConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.promises.readFile(file, 'utf8');
  } catch {
    throw new LensError(
      'NO_CONFIG',
      `The folder ${dir} has no config.json; point Attention Lens at a Hugging Face model folder.`,
    );
  }
  return parseConfig(text, `config.json in ${dir}`);
}
