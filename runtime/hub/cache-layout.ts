// The Hugging Face cache layout, exactly as huggingface_hub writes it, so a model Python already downloaded is used
// without downloading it again and a model downloaded here is usable from Python:
//   <cache>/models--owner--name/blobs/<sha256 for LFS files, git blob sha1 otherwise>
//   <cache>/models--owner--name/snapshots/<commit>/<file>  → symlink to ../../blobs/<blob> (a copy where symlinks fail)
//   <cache>/models--owner--name/refs/<revision>            → the commit hash, no newline
//   <cache>/.locks/models--owner--name/<blob>.attention-lens.lock → who is downloading that blob (blob-lock.ts)
// Every write here is atomic (temporary name, then rename), so a crash never leaves a half-written entry.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { expandHome, hfHome } from './hub-settings';

type Env = Record<string, string | undefined>;

/** The cache folder: $HF_HUB_CACHE, else $HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub (default ~/.cache/huggingface/hub). */
export function hubCacheDir(env: Env = process.env): string {
  const explicit = env.HF_HUB_CACHE?.trim() || env.HUGGINGFACE_HUB_CACHE?.trim();
  if (explicit) return expandHome(explicit);
  return path.join(hfHome(env), 'hub');
}

/** "owner/name" → "models--owner--name". */
export function repoFolderName(repo: string): string {
  return ['models', ...repo.split('/')].join('--');
}

/** The paths of one model repository in the cache. */
export class RepoCache {
  readonly root: string;

  constructor(cacheDir: string, repo: string) {
    this.root = path.join(cacheDir, repoFolderName(repo));
  }

  blob(blobId: string): string {
    return path.join(this.root, 'blobs', blobId);
  }

  /** Where a blob is written while it downloads (huggingface_hub resumes from the same name). */
  incomplete(blobId: string): string {
    return this.blob(blobId) + '.incomplete';
  }

  /** The lock file of a blob's download, beside huggingface_hub's own .locks (never inside the repository folder). */
  lock(blobId: string): string {
    return path.join(path.dirname(this.root), '.locks', path.basename(this.root), `${blobId}.attention-lens.lock`);
  }

  snapshot(commit: string): string {
    return path.join(this.root, 'snapshots', commit);
  }

  snapshotFile(commit: string, file: string): string {
    return path.join(this.snapshot(commit), ...file.split('/'));
  }

  ref(revision: string): string {
    return path.join(this.root, 'refs', ...revision.split('/'));
  }

  /** The commit a branch or tag pointed at when last resolved, if the cache knows it. */
  async readRef(revision: string): Promise<string | undefined> {
    try {
      const commit = (await fs.promises.readFile(this.ref(revision), 'utf8')).trim();
      return /^[0-9a-f]{40}$/.test(commit) ? commit : undefined;
    } catch {
      return undefined;
    }
  }

  async writeRef(revision: string, commit: string): Promise<void> {
    const file = this.ref(revision);
    if ((await this.readRef(revision)) === commit) return;
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await writeAtomically(file, (tmp) => fs.promises.writeFile(tmp, commit));
  }

  /**
   * Makes snapshots/<commit>/<file> point at the blob: a relative symlink as huggingface_hub makes, or a copy when
   * symlinks are not allowed (Windows without developer mode) or `symlinks` is false.
   */
  async link(commit: string, file: string, blobId: string, symlinks = true): Promise<void> {
    const target = this.snapshotFile(commit, file);
    const blob = this.blob(blobId);
    await fs.promises.mkdir(path.dirname(target), { recursive: true });
    if (symlinks) {
      const relative = path.relative(path.dirname(target), blob);
      try {
        await writeAtomically(target, (tmp) => fs.promises.symlink(relative, tmp));
        return;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EACCES' && code !== 'EINVAL') throw e;
      }
    }
    await writeAtomically(target, (tmp) => fs.promises.copyFile(blob, tmp));
  }
}

/** Runs make(tmp) on a temporary name next to file, then renames it over file; the temporary never survives. The
 * temporary name is short, whatever the file's (a name near the file system's 255-byte limit still has room). */
export async function writeAtomically(file: string, make: (tmp: string) => Promise<void>): Promise<void> {
  const tmp = path.join(path.dirname(file), `.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    await make(tmp);
    await fs.promises.rename(tmp, file);
  } catch (e) {
    await fs.promises.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}

/** Size of the file a path leads to (following symlinks), or undefined when there is none. */
export async function fileSize(file: string): Promise<number | undefined> {
  try {
    const st = await fs.promises.stat(file);
    return st.isFile() ? st.size : undefined;
  } catch {
    return undefined;
  }
}

/** Why a write at `where` in the cache failed, and what to do, in words: "EACCES: /c/refs is not writable. Make it
 * writable, or set HF_HUB_CACHE to another folder." */
export function cacheWriteError(e: unknown, where: string): string {
  const code = (e as NodeJS.ErrnoException).code;
  const elsewhere = 'or set HF_HUB_CACHE to another folder.';
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return `${code}: ${writableAncestor(where)} is not writable. Make it writable, ${elsewhere}`;
    case 'ENOTDIR':
    case 'EEXIST':
    case 'EISDIR': {
      const inTheWay = inTheWayOf(where) ?? `a file or folder is in the way of ${where}`;
      return `${code}: ${inTheWay}. Move it away, ${elsewhere}`;
    }
    case 'ENAMETOOLONG':
      return `ENAMETOOLONG: ${path.basename(where)} is too long a name for this file system. Set HF_HUB_CACHE to a folder on another file system.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return `${code}: the disk is full. Free some space, or set HF_HUB_CACHE to a disk with room.`;
    default:
      return `${code ?? (e as Error).message}. Check that the folder is writable, ${elsewhere}`;
  }
}

/** The nearest existing folder of `where` (the one a write was refused in). */
function writableAncestor(where: string): string {
  for (let dir = path.dirname(where); ; dir = path.dirname(dir)) {
    if (statOf(dir)?.isDirectory() || path.dirname(dir) === dir) return dir;
  }
}

/** What stands in the way of writing a file at `where`: a folder at its name, or a file where one of its folders
 * should be. */
function inTheWayOf(where: string): string | undefined {
  if (statOf(where)?.isDirectory()) return `${where} is a folder where a file is needed`;
  const parts: string[] = [];
  for (let dir = path.dirname(where); path.dirname(dir) !== dir; dir = path.dirname(dir)) parts.unshift(dir);
  for (const dir of parts) {
    const st = statOf(dir);
    if (st && !st.isDirectory()) return `${dir} is a file where a folder is needed`;
  }
  return undefined;
}

function statOf(file: string): fs.Stats | undefined {
  try {
    return fs.statSync(file);
  } catch {
    return undefined;
  }
}
