// Keeps the loaded model from being released while work on it is in progress. The model manager releases an idle
// model — after attentionLens.idleUnloadMinutes or at a memory check that finds memory low (ReleaseSchedule in
// model-choices.ts) — only while nothing holds it (begin/end). Show Attention's run holds it (ModelManager.track); so
// must everything the panel asks of the model after the run (explain, compare, Continue, the neuron view's vectors, a
// kept run's windows) and the hover, tint and export's requests to a kept run: each can outlast the idle time or a
// memory check, and a release in the middle fails it ("The model was released"). vscode-free, so that unit tests check
// it against the real ReleaseSchedule.
import type { KeptAttention } from '../runtime/inspector/api';

/** Runs `work` on the model, holding the model loaded until it settles (resolved or rejected). */
export type Hold = <T>(work: () => Promise<T>) => Promise<T>;

/** The hold of a release schedule (ReleaseSchedule's begin/end, what ModelManager.track does). */
export function holdOn(schedule: { begin(): void; end(): void }): Hold {
  return async <T>(work: () => Promise<T>): Promise<T> => {
    schedule.begin();
    try {
      return await work();
    } finally {
      schedule.end();
    }
  };
}

/** `kept` with every request to the worker held (the hover, tint and export read a kept run through it too). */
export function heldKept(kept: KeptAttention, hold: Hold): KeptAttention {
  return {
    get length() {
      return kept.length;
    },
    layer: (l) => kept.layer(l),
    value: (layer, head, query, key) => hold(() => kept.value(layer, head, query, key)),
    row: (layer, head, query) => hold(() => kept.row(layer, head, query)),
    column: (layer, head, key) => hold(() => kept.column(layer, head, key)),
    window: (layer, head, rows, cols) => hold(() => kept.window(layer, head, rows, cols)),
    rollout: (query, startLayer, signal) => hold(() => kept.rollout(query, startLayer, signal)),
    vectors: (layer, query, keys) => hold(() => kept.vectors(layer, query, keys)),
  };
}
