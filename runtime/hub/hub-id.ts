// Parses what a user types to name a Hugging Face Hub model ("owner/name" or "owner/name@revision") and rejects,
// with a message that says what to type instead, the things people paste by mistake: folder paths and Hub URLs.
// The rules follow huggingface_hub's validate_repo_id so an id accepted here is one the Hub can have.
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

/** Parses "owner/name[@revision]"; throws BAD_INPUT naming what is wrong. */
export function parseHubId(input: string): HubId {
  const text = input.trim();
  if (text === '') throw bad(input, 'it is empty. Type owner/name, e.g. openai-community/gpt2.');
  const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
  if (url || /^(www\.)?(huggingface\.co|hf\.co)\//i.test(text)) {
    const m = /(?:huggingface\.co|hf\.co)\/([^/?#\s]+\/[^/?#\s@]+)/i.exec(text);
    const hint = m ? ` Did you mean ${m[1]}?` : '';
    throw bad(text, `that is a URL; type the model id owner/name instead.${hint}`);
  }
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
