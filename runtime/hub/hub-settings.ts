// Where the Hub is, who we are to it, and whether to use the network at all: options first, then the environment
// variables huggingface_hub reads (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, the token file of `huggingface-cli
// login`), so a machine set up for Python works here unchanged and mirrors work by changing one setting.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const DEFAULT_ENDPOINT = 'https://huggingface.co';

type Env = Record<string, string | undefined>;

/** "~" or "~/x" → under the home folder; anything else unchanged. */
export function expandHome(p: string): string {
  return p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p;
}

function nonEmpty(v: string | undefined): string | undefined {
  const t = v?.trim();
  return t ? t : undefined;
}

/** $HF_HOME, else $XDG_CACHE_HOME/huggingface, else ~/.cache/huggingface (as huggingface_hub). */
export function hfHome(env: Env = process.env): string {
  const home = nonEmpty(env.HF_HOME);
  if (home) return expandHome(home);
  const xdg = nonEmpty(env.XDG_CACHE_HOME);
  return path.join(xdg ? expandHome(xdg) : path.join(os.homedir(), '.cache'), 'huggingface');
}

/** The endpoint without a trailing slash: the option, else HF_ENDPOINT, else https://huggingface.co. */
export function hubEndpoint(option?: string, env: Env = process.env): string {
  const e = nonEmpty(option) ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT;
  return e.replace(/\/+$/, '');
}

/** HF_HUB_OFFLINE in huggingface_hub's truthy spellings. */
export function hubOffline(option?: boolean, env: Env = process.env): boolean {
  if (option !== undefined) return option;
  return ['1', 'ON', 'YES', 'TRUE'].includes((env.HF_HUB_OFFLINE ?? '').trim().toUpperCase());
}

/**
 * The token: the option when given (null or '' means "no token"), else HF_TOKEN, else HUGGING_FACE_HUB_TOKEN,
 * else the file `huggingface-cli login` writes ($HF_TOKEN_PATH or $HF_HOME/token).
 */
export function hubToken(option?: string | null, env: Env = process.env): string | undefined {
  if (option !== undefined) return nonEmpty(option ?? undefined);
  const fromEnv = nonEmpty(env.HF_TOKEN) ?? nonEmpty(env.HUGGING_FACE_HUB_TOKEN);
  if (fromEnv) return fromEnv;
  const file = nonEmpty(env.HF_TOKEN_PATH) ? expandHome(env.HF_TOKEN_PATH!.trim()) : path.join(hfHome(env), 'token');
  try {
    return nonEmpty(fs.readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}
