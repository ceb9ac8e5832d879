// DEV ONLY (never used by tests or the extension): stands in for the extension host so that the panel's UI can be
// developed in a plain browser. Load it before dist/webview.js; it defines acquireVsCodeApi, speaks the panel's
// channel (protocol/panel-channel.ts) and answers `ready` with a synthetic run: ?tokens=N&layers=L&heads=H&causal=1
// (random attention, softmax-normalised rows), and `vectors` with random query/key vectors. With &kept=1 the run is
// one kept for long inputs (bench/webview.ts: 8,192 tokens × 30 layers × 9 heads): no map is built; each layer is
// sent as its overview (`keptLayer`) and `keptWindow` is answered with exact entries of a synthetic causal softmax
// whose rows' normalisers are prefix sums (p(i, j) = a(j) · (4 if j = i − d else 1) / Z_i, j ≤ i), O(1) per entry.
import type { HostMessage, TokenInfo } from '../../protocol/messages';
import type { PanelHostEnd, PanelWebviewEnd } from '../../protocol/panel-channel';
import { Channel } from '../../runtime/channel/channel';

const q = new URLSearchParams(location.search);
const T = Number(q.get('tokens') ?? 12);
const L = Number(q.get('layers') ?? 5);
const H = Number(q.get('heads') ?? 8);
const D = 8;
const causal = q.get('causal') !== '0';
const kept = q.get('kept') === '1';
const received: unknown[] = [];
let seed = 1;
const rand = () => (seed = (seed * 16807) % 2147483647) / 2147483647;

const words = [
  '<img src=x onerror=alert(1)>',
  'Once',
  ' upon',
  ' a',
  ' time',
  ' &amp;',
  ' there',
  ' was',
  ' a',
  ' cat',
  '.',
];
let at = 0;
const tokens: TokenInfo[] = Array.from({ length: T }, (_, i) => {
  const text = words[i % words.length];
  at += text.length;
  return { text, start: at - text.length, end: at, special: false };
});
const sourceText = tokens.map((t) => t.text).join('');

function layerData(): Float32Array {
  const a = new Float32Array(H * T * T);
  for (let h = 0; h < H; h++)
    for (let i = 0; i < T; i++) {
      const row = h * T * T + i * T;
      let z = 0;
      for (let j = 0; j < T; j++) {
        const v = causal && j > i ? 0 : Math.exp(4 * rand() + (j === i - (h % 3) ? 3 : 0));
        a[row + j] = v;
        z += v;
      }
      for (let j = 0; j < T; j++) a[row + j] /= z;
    }
  return a;
}

/** What the webview posts to "the host" reaches these listeners. */
const fromWebview = new Set<(m: unknown) => void>();
const host = new Channel<PanelHostEnd, PanelWebviewEnd>({
  postMessage: (m) => window.postMessage(m, '*'),
  onMessage(listener) {
    fromWebview.add(listener);
    return () => fromWebview.delete(listener);
  },
});

function send(m: HostMessage): void {
  const { type, ...payload } = m;
  host.notify(type, payload as never);
}

host.on('ready', () => {
  send({ type: 'settings', colorMap: (q.get('colorMap') as 'viridis') ?? 'viridis' });
  send({
    type: 'runStarted',
    runId: 1,
    tokens,
    facts: {
      name: 'synthetic',
      dir: '/dev',
      family: 'llama',
      modelType: 'llama',
      layers: L,
      heads: H,
      kvHeads: H,
      headDim: D,
      hidden: H * D,
      vocabSize: 100,
      maxPositions: Math.max(4096, T),
      attentionKinds: Array(L).fill(causal ? 'causal' : 'self'),
      hasLmHead: true,
    },
    source: { uri: '', range: [0, 0, 0, 0], text: sourceText, modelPath: '/dev', truncate: false },
    kept,
  });
  let l = 0;
  const next = () => {
    if (l >= L)
      return send({
        type: 'runFinished',
        runId: 1,
        timings: { tokenizeMs: 1, firstLayerMs: 2, totalMs: 42, stageMs: [] },
      });
    if (kept) {
      send(keptLayer(l));
      l++;
      setTimeout(next, 30);
      return;
    }
    const data = layerData();
    send({
      type: 'layer',
      runId: 1,
      layer: l,
      kind: causal ? 'causal' : 'self',
      heads: H,
      queryLength: T,
      keyLength: T,
      data: data.buffer as ArrayBuffer,
    });
    l++;
    setTimeout(next, 30);
  };
  setTimeout(next, 10);
});

host.handle('vectors', ({ layer }) => {
  const qv = new Float32Array(H * T * D).map(() => rand() * 2 - 1);
  const kv = new Float32Array(H * T * D).map(() => rand() * 2 - 1);
  return {
    runId: 1,
    layer,
    heads: H,
    kvHeads: H,
    queryLength: T,
    keyLength: T,
    headDim: D,
    q: qv.buffer as ArrayBuffer,
    k: kv.buffer as ArrayBuffer,
  };
});

/** A kept run's synthetic head (layer l, head h): key weights a [T], the boosted offset d, row normalisers Z [T]. */
interface SyntheticHead {
  a: Float64Array;
  d: number;
  z: Float64Array;
}
const keptHeads = new Map<number, SyntheticHead>();
function keptHead(l: number, h: number): SyntheticHead {
  const key = l * H + h;
  const hit = keptHeads.get(key);
  if (hit) return hit;
  const a = Float64Array.from({ length: T }, () => Math.exp(4 * rand()));
  const d = 1 + ((l + h) % 3);
  const z = new Float64Array(T);
  let prefix = 0;
  for (let i = 0; i < T; i++) {
    prefix += a[i];
    z[i] = prefix + (i >= d ? 3 * a[i - d] : 0);
  }
  const head = { a, d, z };
  keptHeads.set(key, head);
  return head;
}
const keptValue = (s: SyntheticHead, i: number, j: number): number =>
  j > i ? 0 : (s.a[j] * (j === i - s.d ? 4 : 1)) / s.z[i];

/** Layer l's overview as the runtime sends it: per head max and mean over 64 × 64 cells ([heads, res, res]). */
function keptLayer(l: number): HostMessage {
  const B = 64;
  const res = Math.ceil(T / B);
  const max = new Float32Array(H * res * res);
  const mean = new Float32Array(H * res * res);
  for (let h = 0; h < H; h++) {
    const s = keptHead(l, h);
    const sum = new Float64Array(res * res);
    const top = new Float64Array(res * res);
    // Per cell of keys: max and sum of a (full cells read these; the cell holding the diagonal is summed entry by entry).
    const aMax = new Float64Array(res);
    const aSum = new Float64Array(res);
    for (let j = 0; j < T; j++) {
      const c = Math.floor(j / B);
      aMax[c] = Math.max(aMax[c], s.a[j]);
      aSum[c] += s.a[j];
    }
    for (let i = 0; i < T; i++) {
      const r = Math.floor(i / B);
      const zi = s.z[i];
      const boosted = i - s.d; // the key weighted 4×
      const last = Math.floor(i / B); // the cell holding the diagonal
      for (let c = 0; c < last; c++) {
        let m = aMax[c];
        let t = aSum[c];
        if (boosted >= c * B && boosted < (c + 1) * B) {
          m = Math.max(m, 4 * s.a[boosted]);
          t += 3 * s.a[boosted];
        }
        top[r * res + c] = Math.max(top[r * res + c], m / zi);
        sum[r * res + c] += t / zi;
      }
      let m = 0;
      let t = 0;
      for (let j = last * B; j <= i; j++) {
        const v = keptValue(s, i, j);
        m = Math.max(m, v);
        t += v;
      }
      top[r * res + last] = Math.max(top[r * res + last], m);
      sum[r * res + last] += t;
    }
    for (let c = 0; c < res * res; c++) {
      const rows = Math.min(B, T - Math.floor(c / res) * B);
      const cols = Math.min(B, T - (c % res) * B);
      max[h * res * res + c] = top[c];
      mean[h * res * res + c] = sum[c] / (rows * cols);
    }
  }
  return {
    type: 'keptLayer',
    runId: 1,
    layer: l,
    kind: 'causal',
    heads: H,
    length: T,
    causal: true,
    window: null,
    res,
    block: B,
    blockMax: max.buffer as ArrayBuffer,
    blockMean: mean.buffer as ArrayBuffer,
  };
}

/** Windows asked and answered (bench/webview.ts waits until every asked window has been drawn). */
const keptStats = { asked: 0, answered: 0, lastAnsweredAt: 0 };
(window as unknown as { __kept: typeof keptStats }).__kept = keptStats;
host.handle('keptWindow', (m) => {
  keptStats.asked++;
  const s = keptHead(m.layer, m.head);
  const W = m.cols.end - m.cols.start;
  const data = new Float32Array((m.rows.end - m.rows.start) * W); // [rows, cols]
  for (let i = m.rows.start; i < m.rows.end; i++)
    for (let j = m.cols.start; j < m.cols.end; j++)
      data[(i - m.rows.start) * W + j - m.cols.start] = keptValue(s, i, j);
  keptStats.answered++;
  keptStats.lastAnsweredAt = performance.now();
  return { ...m, data: data.buffer as ArrayBuffer };
});

(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage(m: unknown) {
    received.push(m);
    for (const l of [...fromWebview]) l(m);
  },
  getState: () => undefined,
  setState: () => undefined,
});
(window as unknown as { __received: unknown[] }).__received = received;
