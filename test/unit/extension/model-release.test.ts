// When the model manager releases a loaded model (extension/model-choices.ts ReleaseSchedule): after the idle time
// (attentionLens.idleUnloadMinutes) or at a periodic memory check under memory pressure, never while a run is in
// progress or when nothing is loaded; and what the Select Model list shows for a recent model that is also cached.
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
