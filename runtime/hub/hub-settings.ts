// Where the Hub is, who we are to it, and whether to use the network at all: options first, then the environment
// variables huggingface_hub reads (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, the token file of `huggingface-cli
// login`), so a machine set up for Python works here unchanged and mirrors work by changing one setting. The endpoint
// is checked to be a web address before anything is asked of it, and the token's transport rule lives here: it is
// sent only over https, or over plain http to this machine (a loopback address), never in clear text elsewhere.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LensError } from '../errors';

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

/**
 * The endpoint without a trailing slash: the option, else HF_ENDPOINT, else https://huggingface.co. An endpoint that
 * is not an http(s) address (a typo, user:password@, a query) throws BAD_INPUT naming where it came from —
 * `optionName` for the option (default "the endpoint option"), HF_ENDPOINT otherwise.
 */
export function hubEndpoint(option?: string, env: Env = process.env, optionName = 'the endpoint option'): string {
  const fromOption = nonEmpty(option);
  const e = fromOption ?? nonEmpty(env.HF_ENDPOINT) ?? DEFAULT_ENDPOINT;
  const source = fromOption !== undefined ? optionName : 'HF_ENDPOINT';
  const fix = `set it to the Hub's address, e.g. ${DEFAULT_ENDPOINT}, or leave it empty for huggingface.co`;
  let url: URL;
  try {
    url = new URL(e);
  } catch {
    throw new LensError('BAD_INPUT', `The Hub endpoint "${e}" (${source}) is not a web address: ${fix}.`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new LensError('BAD_INPUT', `The Hub endpoint "${e}" (${source}) is not an http(s) address: ${fix}.`);
  }
  if (url.username || url.password) {
    throw new LensError(
      'BAD_INPUT',
      `The Hub endpoint (${source}) holds a user name or password: give the address alone (the token goes in ` +
        `"Attention Lens: Set Hugging Face Token" or HF_TOKEN).`,
    );
  }
  if (url.search || url.hash) {
    throw new LensError('BAD_INPUT', `The Hub endpoint "${e}" (${source}) has a query or fragment: ${fix}.`);
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

/** True for a loopback host name (this machine): localhost, 127.0.0.0/8, ::1. */
export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h);
}

/**
 * How a token would travel to `url`: 'https', 'loopback' (plain http to this machine), or 'clear' (plain http over a
 * network, where anyone on the way reads it). A token is sent only in the first two cases.
 */
export function tokenTransport(url: string): 'https' | 'loopback' | 'clear' {
  const u = new URL(url);
  if (u.protocol === 'https:') return 'https';
  return u.protocol === 'http:' && isLoopbackHost(u.hostname) ? 'loopback' : 'clear';
}

/** The line that says a token was kept back from a clear-text endpoint. */
export function tokenNotSentLine(endpoint: string, what = 'The Hugging Face token'): string {
  return (
    `${what} was not sent to ${endpoint}: a token goes only over https (or plain http to this machine); ` +
    `use the endpoint's https address.`
  );
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
