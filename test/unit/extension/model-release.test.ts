// When the model manager releases a loaded model (extension/model-choices.ts ReleaseSchedule): after the idle time
// (attentionLens.idleUnloadMinutes) or at a periodic memory check under memory pressure, never while a run is in
// progress or when nothing is loaded — work the panel holds (extension/model-hold.ts: Explain, Continue, a kept run's
// requests) included, until it ends; and what the Select Model list shows for a recent model that is also cached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  idleText,
  idleUnloadMs,
  mergeInfo,
  modelChoices,
  ReleaseSchedule,
  type ScheduleTimers,
} from '../../../extension/model-choices';
import { heldKept, holdOn } from '../../../extension/model-hold';
import type { KeptAttention } from '../../../runtime/inspector/api';

/** A fake clock: timers fire only when advance() passes their time. */
class FakeClock implements ScheduleTimers {
  now = 0;
  private next = 1;
  private readonly pending = new Map<number, { at: number; fn: () => void; every?: number }>();
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn });
    return id;
  }
  setInterval(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.pending.set(id, { at: this.now + ms, fn, every: ms });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.pending.delete(h as number);
  }
  clearInterval(h: unknown): void {
    this.pending.delete(h as number);
  }
  get count(): number {
    return this.pending.size;
  }
  advance(ms: number): void {
    const end = this.now + ms;
    for (;;) {
      const due = [...this.pending.entries()].filter(([, t]) => t.at <= end).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      const [id, t] = due;
      this.now = t.at;
      if (t.every) t.at += t.every;
      else this.pending.delete(id);
      t.fn();
    }
    this.now = end;
  }
}

function setup(idleMinutes: number, memory = { free: 8e9, total: 16e9 }) {
  const clock = new FakeClock();
  const released: string[] = [];
  const mem = { ...memory };
  const schedule = new ReleaseSchedule({
    idleMs: idleUnloadMs(idleMinutes),
    memoryCheckMs: 30_000,
    memory: () => mem,
    timers: clock,
    release: (why) => {
      released.push(why);
      schedule.unloaded(); // what the model manager does when it releases
    },
  });
  return { clock, released, mem, schedule };
}

test('idle release: after the idle minutes without use, not before; each use restarts the wait', () => {
  const { clock, released, schedule } = setup(15);
  schedule.loaded();
  clock.advance(14 * 60_000);
  assert.deepEqual(released, []);
  schedule.touch(); // a run asked for the model
  clock.advance(14 * 60_000);
  assert.deepEqual(released, [], 'the use restarted the idle time');
  clock.advance(60_000 + 1);
  assert.deepEqual(released, ['after 15 idle minutes']);
  assert.equal(clock.count, 0, 'no timers left once released');
});

test('idle release: never while a run is in progress; the wait starts when it ends', () => {
  const { clock, released, schedule } = setup(1);
  schedule.loaded();
  schedule.begin();
  schedule.begin(); // two runs (a run and an analysis)
  clock.advance(10 * 60_000);
  assert.deepEqual(released, []);
  schedule.end();
  clock.advance(5 * 60_000);
  assert.deepEqual(released, [], 'one still running');
  schedule.end();
  clock.advance(59_000);
  assert.deepEqual(released, []);
  clock.advance(1_000);
  assert.deepEqual(released, ['after 1 idle minute']);
});

test('idle release: 0 minutes keeps the model; changing the setting applies to the loaded model', () => {
  const { clock, released, schedule } = setup(0);
  schedule.loaded();
  clock.advance(24 * 3600_000);
  assert.deepEqual(released, []);
  schedule.setIdleMs(idleUnloadMs(2));
  clock.advance(2 * 60_000);
  assert.deepEqual(released, ['after 2 idle minutes']);
});

test('nothing loaded: no timers, no release', () => {
  const { clock, released, mem, schedule } = setup(1);
  schedule.touch();
  mem.free = 1e8;
  assert.equal(schedule.checkMemory(), false);
  clock.advance(3600_000);
  assert.deepEqual(released, []);
  assert.equal(clock.count, 0);
});

test('memory pressure: the periodic check releases an idle model when free memory runs low', () => {
  const { clock, released, mem, schedule } = setup(0);
  schedule.loaded();
  clock.advance(5 * 60_000);
  assert.deepEqual(released, [], 'plenty of memory');
  mem.free = 0.4e9; // 2.5 % of 16 GB, under 1 GB
  clock.advance(30_000);
  assert.equal(released.length, 1);
  assert.match(released[0], /^because free memory is low \(400 MB of 16000 MB free\)$/);
  assert.equal(clock.count, 0, 'the memory watch stops with the model');
});

test('memory pressure: a model in use is kept; the check after the run releases it', () => {
  const { clock, released, mem, schedule } = setup(0, { free: 0.3e9, total: 8e9 });
  schedule.loaded();
  schedule.begin();
  clock.advance(90_000);
  assert.equal(schedule.checkMemory(), false);
  assert.deepEqual(released, []);
  schedule.end();
  clock.advance(30_000);
  assert.equal(released.length, 1);
  mem.free = 4e9;
  schedule.loaded(); // loaded again on the next run; memory is fine now
  clock.advance(10 * 60_000);
  assert.equal(released.length, 1);
});

/** A promise settled by hand: work on the model that takes as long as the test says. */
function pending<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((ok, fail) => ((resolve = ok), (reject = fail)));
  return { promise, resolve, reject };
}

test('held work (a long Explain): no release by idle time or memory pressure until it ends; then the idle time runs', async () => {
  const { clock, released, mem, schedule } = setup(1);
  const hold = holdOn(schedule);
  schedule.loaded();
  const explain = pending<string>();
  const answer = hold(() => explain.promise);
  clock.advance(20 * 60_000); // twenty idle minutes' worth, and forty memory checks
  mem.free = 0.2e9;
  clock.advance(90_000);
  assert.equal(schedule.checkMemory(), false);
  assert.deepEqual(released, []);
  mem.free = 8e9;
  explain.resolve('scores');
  assert.equal(await answer, 'scores');
  clock.advance(59_000);
  assert.deepEqual(released, [], 'the idle time starts when the work ends');
  clock.advance(1_000);
  assert.deepEqual(released, ['after 1 idle minute']);
});

test('held work that fails (a cancelled Continue) ends the hold too; the memory check then releases', async () => {
  const { clock, released, schedule } = setup(0, { free: 0.3e9, total: 8e9 });
  const hold = holdOn(schedule);
  schedule.loaded();
  const generate = pending<never>();
  const answer = hold(() => generate.promise);
  clock.advance(5 * 60_000);
  assert.deepEqual(released, []);
  generate.reject(new Error('cancelled'));
  await assert.rejects(answer, /cancelled/);
  clock.advance(30_000);
  assert.equal(released.length, 1);
  assert.match(released[0], /^because free memory is low/);
});

test("a kept run's requests (hover, tint, export, kept windows) hold the model until each answers", async () => {
  const { clock, released, schedule } = setup(1);
  schedule.loaded();
  const asked: string[] = [];
  const row = pending<Float32Array>();
  // The worker's side of a kept run, answering when the test says (row) or at once.
  const worker: KeptAttention = {
    length: 300,
    layer: (l) => (asked.push(`layer ${l}`), undefined),
    value: () => Promise.resolve(0.25),
    row: (layer, head, query) => (asked.push(`row ${layer} ${head} ${query}`), row.promise),
    column: () => Promise.resolve(new Float32Array(300)),
    window: () => Promise.resolve(new Float32Array(4)),
    rollout: () => Promise.resolve(new Float64Array(300)),
    vectors: () => Promise.resolve({ q: new Float32Array(0), k: new Float32Array(0), lse: new Float64Array(0) }),
  };
  const kept = heldKept(worker, holdOn(schedule));
  assert.equal(kept.length, 300);
  assert.equal(kept.layer(3), undefined);
  const answer = kept.row(4, 2, 299);
  assert.deepEqual(asked, ['layer 3', 'row 4 2 299']);
  clock.advance(10 * 60_000);
  assert.deepEqual(released, []);
  const data = new Float32Array([0.5, 0.5]);
  row.resolve(data);
  assert.equal(await answer, data);
  assert.equal(await kept.value(0, 0, 1, 0), 0.25);
  clock.advance(60_000);
  assert.deepEqual(released, ['after 1 idle minute']);
});

test('idle text: minutes, or seconds under a minute', () => {
  assert.equal(idleText(15 * 60_000), '15 idle minutes');
  assert.equal(idleText(60_000), '1 idle minute');
  assert.equal(idleText(3_000), '3 idle seconds');
  assert.equal(idleText(1), '1 idle second');
});

test('a recent model that is also cached shows the cache’s size; recorded facts win where both know', () => {
  assert.deepEqual(mergeInfo({ modelType: 'bert', layers: 6, heads: 12, bytes: undefined }, { bytes: 90.9e6 }), {
    modelType: 'bert',
    layers: 6,
    heads: 12,
    bytes: 90.9e6,
  });
  assert.equal(mergeInfo(undefined, undefined), undefined);
  const list = modelChoices(
    'sentence-transformers/all-MiniLM-L6-v2',
    ['sentence-transformers/all-MiniLM-L6-v2'],
    { 'sentence-transformers/all-MiniLM-L6-v2': { family: 'bert', modelType: 'bert', layers: 6, heads: 12 } },
    [
      {
        id: 'sentence-transformers/all-MiniLM-L6-v2',
        info: { modelType: 'bert', layers: 6, heads: 12, bytes: 90.9e6 },
      },
      { id: 'test/stories', info: { family: 'llama', modelType: 'llama', layers: 5, heads: 8, bytes: 1.05e6 } },
    ],
  );
  assert.deepEqual(
    list.map((c) => [c.label, c.description]),
    [
      ['all-MiniLM-L6-v2', 'current · bert · 6 × 12 · 91 MB'],
      ['stories', 'cached · llama · 5 × 8 · 1 MB'],
    ],
  );
});
