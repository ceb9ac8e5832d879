// A lock per blob shared by every process on the machine (and on others sharing the cache), so that only one process
// writes a blob's .incomplete file: two commands downloading the same model at once would otherwise both write into
// it (one resuming the other's partial while the other still writes through its own handle). Node has no flock, so
// the lock is a file created exclusively ('wx') holding its owner's pid, host and a token of its own. Another process
// waits while that owner lives (polled, cancellable by the abort signal), and takes the lock over when the owner is
// gone: on this host, when its pid no longer runs; from another host, when the owner stopped refreshing the file's
// time (every 10 s) for a minute. A takeover is itself guarded by an exclusive file, so two waiters never both remove a
// lock. The owner checks the file is still its own (heartbeat) and says so (lost()) if it was taken over.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Who holds a lock. */
export interface LockOwner {
  pid: number;
  host: string;
}

export interface LockOptions {
  signal?: AbortSignal;
  /** Called once, when the lock is found held by another live process. */
  onWait?: (owner: LockOwner) => void;
  /** The error to throw when the signal aborts the wait. */
  cancelled: () => Error;
  /** Poll interval while waiting (default 250 ms). */
  pollMs?: number;
  /** Refresh interval of the lock file's time (default 10 s). */
  heartbeatMs?: number;
  /** How long a lock of another host may go without a refresh before it is stale (default 60 s). */
  staleMs?: number;
}

export interface HeldLock {
  /** True when another process took the lock over (it thought this one gone): stop writing. */
  lost(): boolean;
  /** Reads the lock file: whether it is still this holder's (checked before the finished blob is put in place). */
  owned(): Promise<boolean>;
  release(): Promise<void>;
}

/** A lock file that cannot be read as an owner (its writer died between creating and filling it) is stale after this. */
const UNREADABLE_STALE_MS = 5_000;
/** A takeover guard older than this was left by a process that died while taking over. */
const GUARD_STALE_MS = 10_000;

/** The lock files this process holds, removed if it exits without releasing them (Ctrl-C). */
const held = new Map<string, string>();
let exitHook = false;

function parseOwner(text: string): (LockOwner & { token: string }) | undefined {
  try {
    const o = JSON.parse(text) as Partial<LockOwner & { token: string }>;
    if (typeof o.pid === 'number' && typeof o.host === 'string' && typeof o.token === 'string')
      return { pid: o.pid, host: o.host, token: o.token };
  } catch {
    // fall through
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readLock(file: string): Promise<{ text: string; mtimeMs: number } | undefined> {
  try {
    const [text, st] = await Promise.all([fs.promises.readFile(file, 'utf8'), fs.promises.stat(file)]);
    return { text, mtimeMs: st.mtimeMs };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/** Whether the lock as read is left by an owner that is gone. */
function isStale(file: string, seen: { text: string; mtimeMs: number }, staleMs: number): boolean {
  const owner = parseOwner(seen.text);
  const age = Date.now() - seen.mtimeMs;
  if (!owner) return age > UNREADABLE_STALE_MS;
  if (owner.host !== os.hostname()) return age > staleMs;
  // This process's pid but not a lock it holds: left by an earlier process that had the same pid.
  if (owner.pid === process.pid) return held.get(file) !== seen.text;
  return !processAlive(owner.pid);
}

/** Removes the stale lock if it is still the one that was read, under a guard so that two waiters never both do. */
async function takeOver(file: string, staleText: string): Promise<void> {
  const guard = `${file}.takeover`;
  try {
    await fs.promises.writeFile(guard, `${process.pid}`, { flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    const st = await fs.promises.stat(guard).catch(() => undefined);
    if (st && Date.now() - st.mtimeMs > GUARD_STALE_MS) await fs.promises.rm(guard, { force: true });
    return;
  }
  try {
    const now = await readLock(file);
    if (now?.text === staleText) await fs.promises.rm(file, { force: true });
  } finally {
    await fs.promises.rm(guard, { force: true });
  }
}

function removeHeldOnExit(): void {
  if (exitHook) return;
  exitHook = true;
  process.on('exit', () => {
    for (const [file, text] of held) {
      try {
        if (fs.readFileSync(file, 'utf8') === text) fs.rmSync(file, { force: true });
      } catch {
        // already gone
      }
    }
  });
}

/** Takes the lock file `file`, waiting while another live process holds it. Errors from the file system are thrown
 * as they are (the caller words them). */
export async function acquireLock(file: string, options: LockOptions): Promise<HeldLock> {
  const pollMs = options.pollMs ?? 250;
  const staleMs = options.staleMs ?? 60_000;
  await fs.promises.mkdir(path.dirname(file), { recursive: true });
  const text = JSON.stringify({
    pid: process.pid,
    host: os.hostname(),
    token: randomBytes(8).toString('hex'),
    since: new Date().toISOString(),
  });
  let told = false;
  for (;;) {
    if (options.signal?.aborted) throw options.cancelled();
    try {
      await fs.promises.writeFile(file, text, { flag: 'wx' });
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = await readLock(file);
    if (!seen) continue;
    if (isStale(file, seen, staleMs)) {
      await takeOver(file, seen.text);
      continue;
    }
    const owner = parseOwner(seen.text);
    if (!told && owner) {
      told = true;
      options.onWait?.({ pid: owner.pid, host: owner.host });
    }
    try {
      await sleep(pollMs, undefined, { signal: options.signal });
    } catch {
      throw options.cancelled();
    }
  }
  held.set(file, text);
  removeHeldOnExit();
  let lost = false;
  const heartbeat = setInterval(() => {
    void (async () => {
      const now = await readLock(file).catch(() => undefined);
      if (now?.text !== text) {
        lost = true;
        clearInterval(heartbeat);
        return;
      }
      const t = new Date();
      await fs.promises.utimes(file, t, t).catch(() => undefined);
    })();
  }, options.heartbeatMs ?? 10_000);
  heartbeat.unref();
  return {
    lost: () => lost,
    async owned() {
      const now = await readLock(file).catch(() => undefined);
      lost ||= now?.text !== text;
      return !lost;
    },
    async release() {
      clearInterval(heartbeat);
      held.delete(file);
      const now = await readLock(file).catch(() => undefined);
      if (now?.text === text) await fs.promises.rm(file, { force: true }).catch(() => undefined);
    },
  };
}
