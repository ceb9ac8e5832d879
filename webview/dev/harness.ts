// DEV ONLY (never used by tests or the extension): stands in for the extension host so that the panel's UI can be
// developed in a plain browser. Load it before dist/webview.js; it defines acquireVsCodeApi and answers `ready`
// with a synthetic run: ?tokens=N&layers=L&heads=H&causal=1 (random attention, softmax-normalised rows).
import type { HostMessage, TokenInfo } from '../../protocol/messages';

const q = new URLSearchParams(location.search);
const T = Number(q.get('tokens') ?? 12);
const L = Number(q.get('layers') ?? 5);
const H = Number(q.get('heads') ?? 8);
const D = 8;
const causal = q.get('causal') !== '0';
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
const tokens: TokenInfo[] = Array.from({ length: T }, (_, i) => ({
  text: words[i % words.length],
  start: i,
  end: i + 1,
  special: false,
}));

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

function send(m: HostMessage): void {
  window.postMessage(m, '*');
}

(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage(m: { type: string; runId?: number; layer?: number }) {
    received.push(m);
    if (m.type === 'ready') {
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
          maxPositions: 4096,
          attentionKinds: Array(L).fill(causal ? 'causal' : 'self'),
          hasLmHead: true,
        },
        source: { uri: '', range: [0, 0, 0, 0], text: 'dev', modelPath: '/dev', truncate: false },
      });
      let l = 0;
      const next = () => {
        if (l >= L)
          return send({
            type: 'runFinished',
            runId: 1,
            timings: { tokenizeMs: 1, firstLayerMs: 2, totalMs: 42, stageMs: [] },
          });
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
    } else if (m.type === 'requestVectors') {
      const qv = new Float32Array(H * T * D).map(() => rand() * 2 - 1);
      const kv = new Float32Array(H * T * D).map(() => rand() * 2 - 1);
      send({
        type: 'vectors',
        runId: 1,
        layer: m.layer ?? 0,
        heads: H,
        kvHeads: H,
        queryLength: T,
        keyLength: T,
        headDim: D,
        q: qv.buffer as ArrayBuffer,
        k: kv.buffer as ArrayBuffer,
      });
    }
  },
  getState: () => undefined,
  setState: () => undefined,
});
(window as unknown as { __received: unknown[] }).__received = received;
