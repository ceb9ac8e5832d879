// Limits of encoder–decoder runs shared by the calling thread (run-target.ts) and the worker (seq2seq-engine.ts).

/** The longest greedy translation when the caller sets no limit (and the model's positions allow it). */
export const DEFAULT_MAX_TARGET = 128;

/** The widest beam search (each beam is one decoder call per step). */
export const MAX_BEAMS = 16;
