// Node side of the WebGPU page tests and benchmark: a static server on 127.0.0.1 (dist/, the model folders and the
// page harness bundled on the fly), Debian's chromium with WebGPU enabled (SwiftShader, a software Vulkan adapter,
// on these machines — see docs/real-vscode.md), the three test models, and the native backend's attention
// as the golden values.
import { randomBytes } from 'node:crypto';
import { createReadStream, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { contentSecurityPolicy } from '../../protocol/panel-page';
import { load } from '../../runtime/inspector/load-model';
import { loadTokenizer } from '../../runtime/tokenizers/index';
import { chromiumPath, repoRoot } from './code-server';
import type { LensTestApi, PageGeneration, PageLoadOptions, PageLoadResult, PageRun } from './webgpu-page-script';
import { familyModels, maxAbsDiff, testModels, type TestModel } from './webgpu-models';

export type { TestModel };
export { maxAbsDiff };

export const MODELS: TestModel[] = testModels(repoRoot);
/** The hf-tiny decoder families the page test also runs. */
export const FAMILY_MODELS: TestModel[] = familyModels(repoRoot);

export function checkModel(m: TestModel): void {
  if (!existsSync(join(m.dir, 'config.json')))
    throw new Error(
      `${m.name} is missing (${m.dir}); ${m.name === 'all-MiniLM-L6-v2' ? 'run `node scripts/fetch-model.mjs`' : 'it belongs in test/fixtures/models'}.`,
    );
  for (const f of ['dist/webview-inference.js', 'dist/ort-wasm-simd-threaded.asyncify.wasm', 'dist/worker.js'])
    if (!existsSync(join(repoRoot, f))) throw new Error(`${f} is missing: run \`node scripts/build.mjs\` first.`);
}

/** Chromium flags: headless, and WebGPU exposed (SwiftShader here) — or not, to test the fallback. */
export function chromiumArgs(webgpu: boolean): string[] {
  return [
    '--headless',
    '--no-sandbox',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-dev-shm-usage',
    ...(webgpu ? ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader'] : []),
  ];
}

const TYPES: Record<string, string> = {
  '.html': 'text/html',
  '.js': 'text/javascript',
  '.mjs': 'text/javascript',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
};

export interface StaticServer {
  origin: string;
  close(): Promise<void>;
}

/** Serves each URL prefix ('/dist/') from a folder; nothing outside those folders. */
export async function serveStatic(routes: Record<string, string>): Promise<StaticServer> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = decodeURIComponent(url.pathname);
    const prefix = Object.keys(routes).find((p) => path.startsWith(p));
    const root = prefix ? resolve(routes[prefix]) : undefined;
    const file = root ? normalize(join(root, path.slice(prefix!.length))) : undefined;
    if (
      !root ||
      !file ||
      !(file === root || file.startsWith(root + sep)) ||
      !existsSync(file) ||
      !statSync(file).isFile()
    ) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** The harness page, under the panel's own Content-Security-Policy for in-webview inference (protocol/panel-page.ts). */
function harnessHtml(origin: string): string {
  const nonce = randomBytes(18).toString('base64url');
  const csp = contentSecurityPolicy(origin, nonce, true);
  return (
    `<!DOCTYPE html><html><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="${csp}">` +
    `<title>lens</title></head><body><script type="module" nonce="${nonce}" src="/harness/page.js"></script></body></html>`
  );
}

/** Bundles the page harness into a temp folder. */
export async function buildHarness(): Promise<{ dir: string; remove(): void }> {
  const dir = mkdtempSync(join(tmpdir(), 'lens-webgpu-page-'));
  await esbuild.build({
    entryPoints: [join(repoRoot, 'test', 'helpers', 'webgpu-page-script.ts')],
    outfile: join(dir, 'page.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'chrome120',
    logLevel: 'warning',
  });
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A served page with the harness, in a chromium with or without WebGPU. */
export interface WebGpuPage {
  page: Page;
  browser: Browser;
  /** Console errors and page errors, for diagnostics. */
  logs: string[];
  load(model: TestModel, options?: Partial<PageLoadOptions>): Promise<PageLoadResult>;
  run(ids: number[], keepData?: boolean): Promise<PageRun>;
  generate(ids: number[], maxNew: number): Promise<PageGeneration>;
  loseDevice(afterLayer?: number): Promise<void>;
  close(): Promise<void>;
}

export async function openWebGpuPage(opts: { webgpu: boolean }): Promise<WebGpuPage> {
  const harness = await buildHarness();
  const routes: Record<string, string> = { '/dist/': join(repoRoot, 'dist'), '/harness/': harness.dir };
  for (const m of [...MODELS, ...FAMILY_MODELS]) routes[`/models/${m.name}/`] = m.dir;
  const server = await serveStatic(routes);
  writeFileSync(join(harness.dir, 'index.html'), harnessHtml(server.origin));
  const browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: chromiumArgs(opts.webgpu),
  });
  const page = await browser.newPage();
  const logs: string[] = [];
  page.on('pageerror', (e) => logs.push(`[pageerror] ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') logs.push(`[console.${m.type()}] ${m.text()}`);
  });
  await page.goto(`${server.origin}/harness/index.html`);
  await page.waitForFunction(() => document.title === 'lens-test-ready', undefined, { timeout: 30_000 });
  return {
    page,
    browser,
    logs,
    load: (model, options = {}) =>
      page.evaluate((o) => (window as unknown as { lensTest: LensTestApi }).lensTest.load(o), {
        modelBase: `/models/${model.name}/`,
        backend: 'webgpu',
        fallback: 'wasm',
        maxTokens: 512,
        ...options,
      } as PageLoadOptions),
    run: (ids, keepData = true) =>
      page.evaluate(([i, k]) => (window as unknown as { lensTest: LensTestApi }).lensTest.run(i, k), [
        ids,
        keepData,
      ] as [number[], boolean]),
    generate: (ids, maxNew) =>
      page.evaluate(([i, n]) => (window as unknown as { lensTest: LensTestApi }).lensTest.generate(i, n), [
        ids,
        maxNew,
      ] as [number[], number]),
    loseDevice: (afterLayer) =>
      page.evaluate(
        (a) => (window as unknown as { lensTest: LensTestApi }).lensTest.loseDevice(a ?? undefined),
        afterLayer ?? null,
      ),
    close: async () => {
      await browser.close().catch(() => undefined);
      await server.close();
      harness.remove();
    },
  };
}

/** Token ids of `text` with the model's own tokenizer (the extension host tokenizes; the webview gets ids). */
export async function idsOf(m: TestModel): Promise<number[]> {
  const tokenizer = await loadTokenizer(m.dir);
  return tokenizer.encode(m.text).map((t) => t.id);
}

/** Every layer's attention [heads, query, key] from the native backend (onnxruntime-node) in a worker thread. */
export async function nativeAttention(m: TestModel, ids: number[]): Promise<Float32Array[]> {
  const inspector = await load(m.dir, {
    backend: 'native',
    threads: 2,
    workerPath: join(repoRoot, 'dist', 'worker.js'),
  });
  try {
    const layers: Float32Array[] = [];
    for await (const l of inspector.run(ids)) layers[l.layer] = l.data;
    return layers;
  } finally {
    await inspector.dispose();
  }
}
