// Reads a Hugging Face config.json from a model folder and normalises it (config-normalise.ts, re-exported here: the
// field-name zoo of the supported architectures becomes one ModelConfig). Unsupported architectures and missing
// fields fail with a message that names the field or the type.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LensError } from '../errors';
import { CONFIG_FILE_MAX_BYTES, readSideFile } from '../files/side-file';
import { eosTokenIds, parseConfig, type ModelConfig } from './config-normalise';

export * from './config-normalise';

/** Reads and normalises `dir`/config.json. */
export async function readConfig(dir: string): Promise<ModelConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = (await readSideFile(file, 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES)).toString('utf8');
  } catch (e) {
    if (e instanceof LensError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') throw new LensError('BAD_CONFIG', `${file} is a loop of symbolic links: replace it.`);
    if (code !== 'ENOENT' && code !== 'ENOTDIR')
      throw new LensError('BAD_CONFIG', `${file} cannot be read: ${(e as Error).message}.`);
    const ggufs = ggufFilesIn(dir);
    throw new LensError(
      'NO_CONFIG',
      ggufs.length
        ? `The folder ${dir} has no config.json but holds GGUF files (${ggufs.slice(0, 3).join(', ')}${ggufs.length > 3 ? ', …' : ''}): give one of them as the model (${path.join(dir, ggufs[0])}).`
        : `The folder ${dir} has no config.json; point Attention Lens at a Hugging Face model folder.`,
    );
  }
  const config = parseConfig(text, `config.json in ${dir}`);
  // transformers' generate() stops at generation_config.json's eos_token_id where the folder has one.
  const generation = await readGenerationEos(path.join(dir, 'generation_config.json'));
  if (generation !== undefined) config.eosTokenIds = generation;
  return config;
}

/** The .gguf files in `dir` and its subfolders one level down (LM Studio keeps publisher/repo/file.gguf), as paths
 *  relative to it, sorted; [] when it cannot be read. */
function ggufFilesIn(dir: string): string[] {
  const out: string[] = [];
  const list = (rel: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(path.join(dir, rel), { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const name = path.join(rel, e.name);
      if (e.isDirectory() && depth > 0 && !e.name.startsWith('.')) list(name, depth - 1);
      else if (!e.isDirectory() && /\.gguf$/i.test(e.name)) out.push(name);
    }
  };
  list('', 1);
  return out.sort();
}

/** generation_config.json's eos_token_id as ids, or undefined where the file or the field is absent or unreadable. */
async function readGenerationEos(file: string): Promise<number[] | undefined> {
  let raw: unknown;
  try {
    raw = JSON.parse((await readSideFile(file, 'BAD_CONFIG', CONFIG_FILE_MAX_BYTES)).toString('utf8'));
  } catch (e) {
    // A FIFO, a device or a huge file stops the load; a missing or unparsable one is ignored.
    if (e instanceof LensError) throw e;
    return undefined;
  }
  if (typeof raw !== 'object' || raw === null || !('eos_token_id' in raw)) return undefined;
  const ids = eosTokenIds((raw as { eos_token_id: unknown }).eos_token_id);
  return ids.length ? ids : undefined;
}
