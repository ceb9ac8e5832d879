// The Marketplace packages (scripts/package-vsix.mjs), opened as the zip files they are: each platform package holds
// exactly its own onnxruntime-node binaries — checked by their headers (ELF / Mach-O / PE: format and CPU), not by
// their folder names — and the library its binding loads; the universal one holds none; all hold the three .wasm
// files the extension loads and no other; no source, test, fixture or map file; node_modules only the onnxruntime
// run-time files; the manifest's target platform, icon (a 128 × 128 PNG) and the Marketplace fields. The packages
// this machine can run (linux-x64, universal) are unpacked and run stories260K through their own dist/worker.js and
// node_modules against the independent reference attention: native and Wasm from linux-x64, and on the universal
// one `auto` lands on Wasm saying the package has no native binary. Packs the current dist/ (the unit runner builds
// it first) into a temporary folder; prints each package's size.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import * as yauzl from 'yauzl';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';
import { storiesReference } from '../../helpers/stories-reference';
import { load } from '../../../runtime/inspector/load-model';
import type { LayerResult } from '../../../runtime/inspector/api';

type Format = 'ELF' | 'Mach-O' | 'PE';
interface Platform {
  format: Format;
  cpu: 'x86-64' | 'arm64';
  /** The shared library onnxruntime_binding.node loads (its DT_NEEDED / LC_LOAD_DYLIB / import). */
  library: string;
}
const PLATFORMS: Record<string, Platform | null> = {
  'linux-x64': { format: 'ELF', cpu: 'x86-64', library: 'libonnxruntime.so.1' },
  'linux-arm64': { format: 'ELF', cpu: 'arm64', library: 'libonnxruntime.so.1' },
  'darwin-arm64': { format: 'Mach-O', cpu: 'arm64', library: 'libonnxruntime.1.dylib' },
  'win32-x64': { format: 'PE', cpu: 'x86-64', library: 'onnxruntime.dll' },
  'win32-arm64': { format: 'PE', cpu: 'arm64', library: 'onnxruntime.dll' },
  universal: null,
};
const BIN = 'extension/node_modules/onnxruntime-node/bin/';
/** The WebAssembly the extension loads: onnxruntime-web's Node build (host), its WebGPU build (panel), resvg (PNG). */
const WASM = [
  'extension/node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm',
  'extension/dist/ort-wasm-simd-threaded.asyncify.wasm',
  'extension/dist/resvg.wasm',
];

/** Format and CPU from a binary's first bytes: ELF e_machine, Mach-O cputype, PE COFF Machine. */
function binaryHeader(b: Buffer): { format: Format; cpu: string } {
  if (b.length >= 20 && b.readUInt32BE(0) === 0x7f454c46) {
    assert.equal(b[4], 2, 'ELF class 64-bit');
    assert.equal(b[5], 1, 'ELF little-endian');
    const machine = b.readUInt16LE(18);
    return { format: 'ELF', cpu: machine === 62 ? 'x86-64' : machine === 183 ? 'arm64' : `e_machine ${machine}` };
  }
  if (b.length >= 8 && b.readUInt32LE(0) === 0xfeedfacf) {
    const cpu = b.readUInt32LE(4);
    return { format: 'Mach-O', cpu: cpu === 0x0100000c ? 'arm64' : cpu === 0x01000007 ? 'x86-64' : `cputype ${cpu}` };
  }
  if (b.length >= 0x40 && b.toString('latin1', 0, 2) === 'MZ') {
    const pe = b.readUInt32LE(0x3c);
    assert.ok(pe + 6 <= b.length, 'PE header within the bytes read');
    assert.equal(b.toString('latin1', pe, pe + 4), 'PE\0\0', 'PE signature');
    const machine = b.readUInt16LE(pe + 4);
    return { format: 'PE', cpu: machine === 0x8664 ? 'x86-64' : machine === 0xaa64 ? 'arm64' : `Machine ${machine}` };
  }
  throw new Error(`not a known binary: ${b.subarray(0, 8).toString('hex')}`);
}

interface Entry {
  name: string;
  size: number;
  head: Buffer;
}

/** Every entry of a zip with its first `headBytes` bytes. */
function readZip(file: string, headBytes = 4096): Promise<Entry[]> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      const out: Entry[] = [];
      zip.on('error', reject);
      zip.on('end', () => resolve(out));
      zip.on('entry', (e: yauzl.Entry) => {
        if (e.fileName.endsWith('/')) return zip.readEntry();
        zip.openReadStream(e, (err2, stream) => {
          if (err2) return reject(err2);
          const chunks: Buffer[] = [];
          let got = 0;
          let done = false;
          const finish = () => {
            if (done) return;
            done = true;
            out.push({
              name: e.fileName,
              size: e.uncompressedSize,
              head: Buffer.concat(chunks).subarray(0, headBytes),
            });
            zip.readEntry();
          };
          stream.on('data', (c: Buffer) => {
            chunks.push(c);
            got += c.length;
            if (got >= headBytes) {
              stream.unpipe();
              stream.destroy();
              finish();
            }
          });
          stream.on('end', finish);
          stream.on('close', finish);
          stream.on('error', (e3) => (done ? undefined : reject(e3)));
        });
      });
      zip.readEntry();
    });
  });
}

/** Unpacks a zip's `extension/` folder into `dir` (what VS Code installs). */
function unzipExtension(file: string, dir: string): Promise<void> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true }, (err, zip) => {
      if (err) return reject(err);
      zip.on('error', reject);
      zip.on('end', () => resolve());
      zip.on('entry', (e: yauzl.Entry) => {
        if (!e.fileName.startsWith('extension/') || e.fileName.endsWith('/')) return zip.readEntry();
        const to = path.join(dir, e.fileName.slice('extension/'.length));
        assert.ok(to.startsWith(dir + path.sep), `${e.fileName} stays inside the folder`);
        mkdirSync(path.dirname(to), { recursive: true });
        zip.openReadStream(e, (err2, stream) => {
          if (err2) return reject(err2);
          const out = createWriteStream(to);
          out.on('finish', () => zip.readEntry());
          out.on('error', reject);
          stream.pipe(out);
        });
      });
      zip.readEntry();
    });
  });
}

const outDir = mkdtempSync(path.join(tmpdir(), 'attention-lens-vsix-test-'));
const packages = new Map<string, string>();
let packOutput = '';

before(() => {
  assert.ok(
    existsSync(path.join(repoRoot, 'dist', 'extension.js')),
    'dist/ is not built: run `npm run build` (npm run test:unit builds it first)',
  );
  const r = spawnSync(
    process.execPath,
    [path.join(repoRoot, 'scripts', 'package-vsix.mjs'), '--no-build', '--out-dir', outDir],
    { cwd: repoRoot, encoding: 'utf8', timeout: 600_000 },
  );
  packOutput = `${r.stdout}\n${r.stderr}`;
  assert.equal(r.status, 0, `package-vsix.mjs failed:\n${packOutput.slice(-4000)}`);
  for (const line of r.stdout.split('\n')) {
    const m = /^VSIX (\S+) (.+)$/.exec(line);
    if (m) packages.set(m[1], m[2]);
  }
});
after(() => rmSync(outDir, { recursive: true, force: true }));

test('one package per onnxruntime-node platform and a universal one; vsce printed no warning', () => {
  assert.deepEqual([...packages.keys()].sort(), Object.keys(PLATFORMS).sort());
  assert.doesNotMatch(packOutput, /\bWARNING\b/);
  const pkg = JSON.parse(
    spawnSync(process.execPath, ['-p', 'JSON.stringify(require("./package.json"))'], {
      cwd: repoRoot,
      encoding: 'utf8',
    }).stdout,
  ) as { version: string };
  assert.match(pkg.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/, 'semver version');
  for (const [target, file] of packages)
    assert.equal(
      path.basename(file),
      `attention-lens-${pkg.version}${target === 'universal' ? '' : `-${target}`}.vsix`,
      `${target}'s file name`,
    );
});

for (const [target, platform] of Object.entries(PLATFORMS)) {
  describe(`${target} package`, () => {
    let entries: Entry[] = [];
    before(async () => {
      const file = packages.get(target);
      assert.ok(file, `no ${target} package was built`);
      entries = await readZip(file);
      const mib = statSync(file).size / 1024 / 1024;
      console.log(`# ${target}: ${mib.toFixed(1)} MiB, ${entries.length} files`);
    });

    test(
      platform
        ? `holds only ${platform.format} ${platform.cpu} binaries, with the binding and ${platform.library}`
        : 'holds no native binary',
      () => {
        const binaries = entries.filter((e) => e.name.startsWith(BIN));
        if (!platform) {
          assert.deepEqual(
            binaries.map((e) => e.name),
            [],
          );
          // Nor any other native code anywhere in the package.
          for (const e of entries) assert.throws(() => binaryHeader(e.head), /not a known binary/, e.name);
          return;
        }
        const names = binaries.map((e) => path.posix.basename(e.name));
        assert.ok(names.includes('onnxruntime_binding.node'), `the binding: ${names.join(', ')}`);
        assert.ok(names.includes(platform.library), `${platform.library}: ${names.join(', ')}`);
        for (const e of entries) {
          let header: { format: Format; cpu: string } | undefined;
          try {
            header = binaryHeader(e.head);
          } catch {
            header = undefined;
          }
          if (!header) {
            assert.ok(!e.name.startsWith(BIN), `${e.name} in the binary folder is not a binary`);
            continue;
          }
          assert.ok(e.name.startsWith(BIN), `native code outside onnxruntime-node's binaries: ${e.name}`);
          assert.deepEqual(header, { format: platform.format, cpu: platform.cpu }, e.name);
        }
        // One copy of each library: the versioned darwin duplicate nothing loads is left out.
        const sizes = binaries.map((e) => e.size);
        assert.equal(new Set(sizes).size, sizes.length, `two binaries of equal size: ${names.join(', ')}`);
      },
    );

    test('holds the .wasm files the extension loads (WebAssembly version 1), and no other', () => {
      const wasm = entries.filter((e) => e.name.endsWith('.wasm'));
      assert.deepEqual(wasm.map((e) => e.name).sort(), [...WASM].sort());
      for (const e of wasm) {
        assert.equal(e.head.toString('hex', 0, 8), '0061736d01000000', `${e.name} starts with \\0asm, version 1`);
        assert.ok(e.size > 1_000_000, `${e.name} is whole (${e.size} bytes)`);
      }
    });

    test('no source, test, fixture, map or tooling file; node_modules only the onnxruntime run-time files', () => {
      for (const e of entries) {
        const p = e.name;
        if (!p.startsWith('extension/')) {
          assert.ok(['[Content_Types].xml', 'extension.vsixmanifest'].includes(p), p);
          continue;
        }
        const rel = p.slice('extension/'.length);
        assert.doesNotMatch(rel, /\.(ts|mts|cts|map|py|tsbuildinfo)$/, `${rel}: a source or map file`);
        assert.doesNotMatch(
          rel,
          /(^|\/)(tests?|fixtures|__tests__|docs|examples?)\//,
          `${rel}: tests, fixtures or docs`,
        );
        assert.doesNotMatch(
          rel,
          /^(runtime|extension|protocol|webview|figures|writers|cli|bench|scripts|\.cache|\.ci|vsix|test-results)\//,
          `${rel}: a source or tooling folder`,
        );
        assert.doesNotMatch(rel, /^\./, `${rel}: a dot-file`);
        if (rel.startsWith('node_modules/'))
          assert.match(rel, /^node_modules\/onnxruntime-(node|web|common)\//, `${rel}: a dependency nothing loads`);
      }
      const names = new Set(entries.map((e) => e.name));
      for (const f of [
        'package.json',
        'readme.md',
        'changelog.md',
        'LICENSE.txt',
        'dist/extension.js',
        'dist/worker.js',
        'dist/webview.js',
        'dist/webview-inference.js',
        'node_modules/onnxruntime-node/dist/index.js',
        'node_modules/onnxruntime-web/dist/ort.node.min.js',
        'node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.mjs',
        'node_modules/onnxruntime-common/dist/cjs/index.js',
        'node_modules/onnxruntime-common/dist/cjs/package.json',
      ])
        assert.ok(names.has(`extension/${f}`), `${f} is in the package`);
    });

    test('manifest: target platform, a 128 × 128 PNG icon, Marketplace fields', async () => {
      const file = packages.get(target)!;
      const all = await readZip(file, 1 << 20);
      const manifest = all.find((e) => e.name === 'extension.vsixmanifest')!.head.toString('utf8');
      const identity = /<Identity [^>]*>/.exec(manifest)?.[0];
      assert.ok(identity, 'an Identity element');
      assert.equal(/TargetPlatform="([^"]*)"/.exec(identity)?.[1], platform ? target : undefined, identity);
      const json = JSON.parse(all.find((e) => e.name === 'extension/package.json')!.head.toString('utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(typeof json.icon, 'string');
      const icon = all.find((e) => e.name === `extension/${json.icon as string}`);
      assert.ok(icon, `the icon ${json.icon as string} is in the package`);
      assert.equal(icon.head.toString('hex', 0, 8), '89504e470d0a1a0a', 'a PNG');
      assert.equal(icon.head.toString('latin1', 12, 16), 'IHDR');
      assert.deepEqual([icon.head.readUInt32BE(16), icon.head.readUInt32BE(20)], [128, 128], 'icon 128 × 128');
      for (const k of ['galleryBanner', 'keywords', 'bugs', 'homepage', 'license', 'qna', 'repository', 'categories'])
        assert.ok(k in json, `package.json has ${k}`);
      for (const k of [
        'attention',
        'transformer',
        'interpretability',
        'explainability',
        'bertviz',
        'llm',
        'onnx',
        'gguf',
      ])
        assert.ok((json.keywords as string[]).includes(k), `keyword ${k}`);
    });
  });
}

describe('the packages this machine runs: stories260K through the package’s own worker and onnxruntime', () => {
  const ref = storiesReference();
  const runs: [string, 'native' | 'wasm' | 'auto', string][] = [
    ['linux-x64', 'native', 'native'],
    ['linux-x64', 'wasm', 'wasm'],
    ['universal', 'auto', 'wasm'],
  ];
  const unpacked = new Map<string, string>();
  for (const [target, backend, expected] of runs)
    test(`${target} on ${backend}: ${expected}, attention equal to the reference`, async () => {
      let dir = unpacked.get(target);
      if (!dir) {
        dir = path.join(outDir, `unpacked-${target}`);
        await unzipExtension(packages.get(target)!, dir);
        unpacked.set(target, dir);
      }
      const inspector = await load(fixtureModel('stories260K'), {
        backend,
        threads: 1,
        workerPath: path.join(dir, 'dist', 'worker.js'),
      });
      try {
        assert.equal(inspector.backend, expected);
        if (target === 'universal')
          assert.match(inspector.fallbackReason ?? '', /^No native onnxruntime binary for linux-x64 in this package/);
        else assert.equal(inspector.fallbackReason, undefined);
        const layers: LayerResult[] = [];
        for await (const l of inspector.run(ref.text)) layers.push(l);
        assert.equal(layers.length, ref.shape[0]);
        let worst = 0;
        for (const l of layers) {
          assert.deepEqual([l.heads, l.queryLength, l.keyLength], ref.shape.slice(1));
          const flat = ref.attn[l.layer].flat(2);
          for (let i = 0; i < flat.length; i++) worst = Math.max(worst, Math.abs(l.data[i] - flat[i]));
        }
        assert.ok(worst < 1e-4, `max |attention - reference| = ${worst}`);
      } finally {
        await inspector.dispose();
      }
    });
});
