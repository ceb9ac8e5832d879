// DEV ONLY (never used by tests or the extension): stands in for the extension host so that the panel's UI can be
// developed in a plain browser. Load it before dist/webview.js; it defines acquireVsCodeApi, speaks the panel's
// channel (protocol/panel-channel.ts) and answers `ready` with a synthetic run: ?tokens=N&layers=L&heads=H&causal=1
// (random attention, softmax-normalised rows), and `vectors` with random query/key vectors.
import type { HostMessage, TokenInfo } from '../../protocol/messages';
import type { PanelHostEnd, PanelWebviewEnd } from '../../protocol/panel-channel';
import { Channel } from '../../runtime/channel/channel';

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
      maxPositions: 4096,
      attentionKinds: Array(L).fill(causal ? 'causal' : 'self'),
      hasLmHead: true,
    },
    source: { uri: '', range: [0, 0, 0, 0], text: sourceText, modelPath: '/dev', truncate: false },
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

(window as unknown as { acquireVsCodeApi: () => unknown }).acquireVsCodeApi = () => ({
  postMessage(m: unknown) {
    received.push(m);
    for (const l of [...fromWebview]) l(m);
  },
  getState: () => undefined,
  setState: () => undefined,
});
(window as unknown as { __received: unknown[] }).__received = received;
