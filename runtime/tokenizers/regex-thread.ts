// The Node side of tokenizer-regex.ts: a tokenizer file's regular expressions run on a helper thread that the
// calling thread waits for, up to REGEX_TIME_LIMIT_MS per text (the tokenizer is synchronous: a SharedArrayBuffer
// flag, Atomics.wait and receiveMessageOnPort make the wait so); past that the thread is ended, mid-match, and the
// pattern is named in one line. Installed by the Node loader of tokenizer files (index.ts).
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { LensError } from '../errors';
import type { RegexRunner } from './tokenizer-regex';

/** How long one pattern may take over one text; real tokenizers' patterns take milliseconds on a whole book. */
export const REGEX_TIME_LIMIT_MS = 5_000;
let limitMs = REGEX_TIME_LIMIT_MS;

/** Sets the time limit (tests use a shorter one than REGEX_TIME_LIMIT_MS); returns the one it replaces. */
export function setRegexTimeLimit(ms: number): number {
  const was = limitMs;
  limitMs = ms;
  return was;
}

/** The helper thread: compiles each pattern once, answers with [start, end) UTF-16 spans of every match. */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const compiled = new Map();
parentPort.once('message', ({ port, flag }) => {
  Atomics.store(flag, 1, 1); // started
  Atomics.notify(flag, 1);
  port.on('message', ({ id, source, flags, text }) => {
    try {
      const key = flags + '/' + source;
      let re = compiled.get(key);
      if (!re) compiled.set(key, (re = new RegExp(source, flags)));
      const spans = [];
      re.lastIndex = 0;
      for (const m of text.matchAll(re)) spans.push(m.index, m.index + m[0].length);
      const out = Int32Array.from(spans);
      port.postMessage({ id, spans: out }, [out.buffer]);
    } catch (e) {
      port.postMessage({ id, error: String(e && e.message ? e.message : e) });
    }
    Atomics.store(flag, 0, 1);
    Atomics.notify(flag, 0);
  });
});
`;

/** How long a helper thread may take to start; not part of any pattern's time. */
const START_LIMIT_MS = 60_000;

interface Helper {
  worker: Worker;
  port: MessagePort;
  /** [0]: 1 once the answer to the last request is posted; [1]: 1 once the thread has started. */
  flag: Int32Array;
  started: boolean;
  next: number;
}
let helper: Helper | undefined;

function startHelper(): Helper {
  const worker = new Worker(WORKER_SOURCE, { eval: true });
  worker.unref(); // never what keeps a process alive
  worker.on('error', () => {
    if (helper?.worker === worker) helper = undefined; // the next text starts a new one
  });
  const { port1, port2 } = new MessageChannel();
  const flag = new Int32Array(new SharedArrayBuffer(8));
  worker.postMessage({ port: port2, flag }, [port2]);
  port1.unref();
  return { worker, port: port1, flag, started: false, next: 1 };
}

/** Runs a tokenizer file's patterns on the helper thread, each text within the time limit (a BAD_TOKENIZER
 * LensError past it). */
export const threadRegexRunner: RegexRunner = {
  warm() {
    helper ??= startHelper(); // its thread starts while the rest of the tokenizer loads
  },
  spans,
};

function spans(re: RegExp, text: string, what: string): Int32Array {
  const h = (helper ??= startHelper());
  if (!h.started) {
    // A thread's start (tens of ms, more on a busy machine) is not the pattern's time.
    Atomics.wait(h.flag, 1, 0, START_LIMIT_MS);
    if (Atomics.load(h.flag, 1) !== 1) {
      helper = undefined;
      void h.worker.terminate();
      throw new LensError('BAD_TOKENIZER', `${what} could not be run: its thread did not start.`);
    }
    h.started = true;
  }
  const id = h.next++;
  Atomics.store(h.flag, 0, 0);
  h.port.postMessage({ id, source: re.source, flags: re.flags, text });
  const waited = Atomics.wait(h.flag, 0, 0, limitMs);
  const reply = receiveMessageOnPort(h.port)?.message as { id: number; spans?: Int32Array; error?: string } | undefined;
  if (waited === 'timed-out' && reply === undefined) {
    helper = undefined;
    void h.worker.terminate();
    throw new LensError(
      'BAD_TOKENIZER',
      `${what} takes more than ${limitMs / 1000} s on a text of ${text.length.toLocaleString('en-US')} characters (it backtracks exponentially on such texts), so the tokenizer cannot be used: fix the pattern in the file, or pick another model.`,
    );
  }
  if (!reply || reply.id !== id) {
    helper = undefined;
    void h.worker.terminate();
    throw new LensError('BAD_TOKENIZER', `${what} could not be run: no answer from its thread.`);
  }
  if (reply.error !== undefined) throw new LensError('BAD_TOKENIZER', `${what} failed on this text: ${reply.error}.`);
  return reply.spans!;
}
