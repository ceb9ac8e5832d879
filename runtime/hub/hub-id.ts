// Parses what a user types to name a Hugging Face Hub model ("owner/name" or "owner/name@revision", or the model's
// page on huggingface.co pasted from the browser: https://huggingface.co/owner/name and its /tree/REV form) and
// rejects, with a message that says what to type instead, the things people paste by mistake: folder paths, other
// URLs, datasets and Spaces. The rules follow huggingface_hub's validate_repo_id so an id accepted here is one the
// Hub can have.
import { LensError } from '../errors';

export interface HubId {
  /** "owner/name" */
  repo: string;
  owner: string;
  name: string;
  /** A branch, tag or commit; "main" when none was given. */
  revision: string;
  /** True when the text named a revision ("@..."). */
  explicitRevision: boolean;
}

const PART = /^[A-Za-z0-9_.-]{1,96}$/;
const REVISION = /^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,255}$/;
const COMMIT = /^[0-9a-f]{40}$/;

/** True for a full 40-hex commit hash (a revision that can never move). */
export function isCommitHash(revision: string): boolean {
  return COMMIT.test(revision);
}

function bad(text: string, why: string): LensError {
  return new LensError('BAD_INPUT', `"${text}" is not a Hugging Face model id: ${why}`);
}

function checkPart(text: string, part: string, what: string): void {
  if (!PART.test(part)) {
    throw bad(text, `the ${what} may only use letters, digits, '-', '_' and '.' (at most 96 characters).`);
  }
  if (/^[-.]|[-.]$/.test(part) || part.includes('--') || part.includes('..')) {
    throw bad(text, `the ${what} may not start or end with '-' or '.', nor contain '--' or '..'.`);
  }
}

/** The Hub's own hosts, whose model pages are accepted as ids. */
const HUB_PAGE = /^(?:www\.)?(?:huggingface\.co|hf\.co)$/i;

/** True when the text is a web address (scheme://...) or starts with the Hub's host name (huggingface.co/...). */
export function isUrlLike(text: string): boolean {
  const t = text.trim();
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(t) || /^(www\.)?(huggingface\.co|hf\.co)\//i.test(t);
}

/** A model page on huggingface.co (…/owner/name, …/owner/name/tree/REV, a file's …/blob/REV/… or …/resolve/REV/…) as
 * "owner/name[@REV]"; throws BAD_INPUT for any other URL. */
function idFromUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(text) ? text : `https://${text}`);
  } catch {
    throw bad(text, 'that is a URL that cannot be read; type the model id owner/name instead.');
  }
  const segments = url.pathname.split('/').filter((p) => p !== '');
  const hubPage = HUB_PAGE.test(url.hostname) && (url.protocol === 'https:' || url.protocol === 'http:');
  if (!hubPage) {
    const m = /(?:huggingface\.co|hf\.co)\/([^/?#\s]+\/[^/?#\s@]+)/i.exec(text);
    throw bad(text, `that is a URL; type the model id owner/name instead.${m ? ` Did you mean ${m[1]}?` : ''}`);
  }
  const [owner, name, kind, revision] = segments.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  if (owner === 'datasets' || owner === 'spaces') {
    throw bad(text, `that is a ${owner === 'datasets' ? 'dataset' : 'Space'}, not a model; give a model's page or id.`);
  }
  if (!owner || !name) throw bad(text, "that page is not a model's; give a model's page (huggingface.co/owner/name).");
  if (kind === undefined) return `${owner}/${name}`;
  if ((kind === 'tree' || kind === 'blob' || kind === 'resolve') && revision) return `${owner}/${name}@${revision}`;
  throw bad(text, `that page is not a model's; give huggingface.co/${owner}/${name} (or its /tree/REVISION).`);
}

/** Parses "owner/name[@revision]" or a model's page URL on huggingface.co; throws BAD_INPUT naming what is wrong. */
export function parseHubId(input: string): HubId {
  const typed = input.trim();
  if (typed === '') throw bad(input, 'it is empty. Type owner/name, e.g. openai-community/gpt2.');
  const text = isUrlLike(typed) ? idFromUrl(typed) : typed;
  if (/^(~|\.{1,2}([/\\]|$)|[/\\]|[A-Za-z]:)/.test(text) || text.includes('\\')) {
    throw bad(text, 'it looks like a folder path. Type owner/name for a Hub model, or give an existing model folder.');
  }
  const at = text.indexOf('@');
  const repo = at < 0 ? text : text.slice(0, at);
  const revision = at < 0 ? 'main' : text.slice(at + 1);
  const parts = repo.split('/');
  if (parts.length === 1) throw bad(text, 'it needs an owner: type owner/name, e.g. openai-community/gpt2.');
  if (parts.length > 2) {
    throw bad(text, 'it has more than one "/": a Hub id is owner/name (a folder path must exist on disk).');
  }
  const [owner, name] = parts;
  checkPart(text, owner, 'owner');
  checkPart(text, name, 'name');
  if (at >= 0) {
    if (!REVISION.test(revision) || revision.includes('..') || revision.includes('//') || revision.endsWith('/')) {
      throw bad(text, `"${revision}" is not a valid revision (a branch, tag or commit hash, e.g. @main).`);
    }
  }
  return { repo: `${owner}/${name}`, owner, name, revision, explicitRevision: at >= 0 };
}

/** Formats an id back as the user would type it. */
export function formatHubId(id: HubId): string {
  return id.explicitRevision ? `${id.repo}@${id.revision}` : id.repo;
}
