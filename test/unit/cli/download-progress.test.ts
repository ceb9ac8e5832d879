// The CLI's download progress (cli/download-progress.ts), shared by every command: sizes that never read as the whole
// before the end and fit small files, a speed measured over the last 5 s that leaves out the first chunk (it came with
// the headers), a line while another process downloads the file; expected lines computed by hand. Then `export` of a
// Hub model (node dist/cli.js against a local Hub) prints them on stderr, as run and generate do.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { downloadReporter } from '../../../cli/download-progress';
import type { DownloadProgress } from '../../../runtime/hub/download';
import { type HubServer, repoFromFolder, startHubServer } from '../../helpers/hub-server';
import { fixtureModel, repoRoot } from '../../helpers/fixtures';

/** A reporter on a clock the test moves, and what it wrote. */
function reporter(tty = false) {
  let t = 0;
  const out: string[] = [];
  const report = downloadReporter((s) => out.push(s), { tty, now: () => t });
  return {
    out,
    at(ms: number, p: Partial<DownloadProgress> & { bytes: number; total: number }) {
      t = ms;
      report({ file: 'model.safetensors', bytesPerSecond: 0, overallBytes: 0, overallTotal: 0, ...p });
    },
  };
}

test('no speed from the first chunk alone; then the speed since it, in kB/s', () => {
  const r = reporter();
  const total = 1_044_992;
  r.at(0, { bytes: 262_144, total });
  r.at(1000, { bytes: 290_144, total }); // within 2 s of the last line: not printed
  r.at(2000, { bytes: 318_144, total }); // 56,000 bytes in 2 s since the first chunk
  assert.deepEqual(r.out, [
    'downloading model.safetensors: 0.3 of 1.0 MB\n',
    'downloading model.safetensors: 0.3 of 1.0 MB, 28 kB/s\n',
  ]);
});

test('a big first chunk does not inflate the speed', () => {
  const r = reporter();
  r.at(0, { bytes: 1_000_000, total: 50_000_000 });
  r.at(2000, { bytes: 1_056_000, total: 50_000_000 });
  assert.equal(r.out[1], 'downloading model.safetensors: 1.1 of 50.0 MB, 28 kB/s\n');
});

test('near the end a part never reads as the whole; the end says done', () => {
  const r = reporter();
  const total = 1_044_992;
  r.at(0, { bytes: 262_144, total });
  r.at(4000, { bytes: 1_044_000, total }); // (1,044,000 − 262,144) / 4 s = 195,464 B/s
  r.at(4100, { bytes: total, total });
  assert.deepEqual(r.out.slice(1), [
    'downloading model.safetensors: 1.044 of 1.045 MB, 195.5 kB/s\n',
    'downloading model.safetensors: 1.0 of 1.0 MB, done\n',
  ]);
});

test('small files in bytes and kB', () => {
  const r = reporter();
  r.at(0, { file: 'config.json', bytes: 651, total: 651 });
  r.at(1, { file: 'tokenizer.json', bytes: 14_759, total: 14_759 });
  r.at(2, { file: 'vocab.txt', bytes: 65_536, total: 231_508 });
  assert.deepEqual(r.out, [
    'downloading config.json: 651 of 651 bytes, done\n',
    'downloading tokenizer.json: 14.8 of 14.8 kB, done\n',
    'downloading vocab.txt: 65.5 of 231.5 kB\n',
  ]);
});

test('the speed is that of the last 5 s', () => {
  const r = reporter();
  const total = 100_000_000;
  let bytes = 100_000;
  r.at(0, { bytes, total });
  for (let s = 1; s <= 10; s++) {
    bytes += s <= 5 ? 1_000_000 : 100_000; // 1 MB/s for 5 s, then 100 kB/s
    r.at(s * 1000, { bytes, total });
  }
  // Printed at 0, 2, 4, 6, 8 and 10 s; at 10 s the window is 5–10 s: 500,000 bytes in 5 s.
  assert.equal(r.out.length, 6);
  assert.equal(r.out[2], 'downloading model.safetensors: 4.1 of 100.0 MB, 1 MB/s\n');
  assert.equal(r.out[5], 'downloading model.safetensors: 5.6 of 100.0 MB, 100 kB/s\n');
});

test('waiting for another process that downloads the file', () => {
  const r = reporter();
  r.at(0, { bytes: 300_000, total: 1_044_992, waitingFor: { pid: 4242, host: os.hostname() } });
  r.at(10, { bytes: 300_000, total: 1_044_992, waitingFor: { pid: 4242, host: 'build-box' } });
  assert.deepEqual(r.out, [
    'downloading model.safetensors: waiting for another download of it to finish (process 4242)\n',
    'downloading model.safetensors: waiting for another download of it to finish (process 4242 on build-box)\n',
  ]);
});

test('on a terminal the line is redrawn in place and ends with the file', () => {
  const r = reporter(true);
  r.at(0, { bytes: 262_144, total: 1_044_992 });
  r.at(100, { bytes: 290_144, total: 1_044_992 }); // within 200 ms: not drawn
  r.at(300, { bytes: 300_000, total: 1_044_992 }); // 37,856 bytes in 0.3 s
  r.at(400, { bytes: 1_044_992, total: 1_044_992 });
  r.at(500, { file: 'config.json', bytes: 100, total: 651 });
  assert.deepEqual(r.out, [
    '\rdownloading model.safetensors: 0.3 of 1.0 MB\x1b[K',
    '\rdownloading model.safetensors: 0.3 of 1.0 MB, 126.2 kB/s\x1b[K',
    '\rdownloading model.safetensors: 1.0 of 1.0 MB, done\x1b[K\n',
    '\rdownloading config.json: 100 of 651 bytes\x1b[K',
  ]);
});

// ----- the CLI ------------------------------------------------------------------------------------------------

const REPO = 'lens-test/stories260K';
let hub: HubServer;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lens-cli-progress-'));

before(async () => {
  hub = await startHubServer({ [REPO]: repoFromFolder(REPO, fixtureModel('stories260K')) });
  // The weights arrive in 64 KB pieces 50 ms apart (about 0.8 s).
  hub.faults.slow = { bytes: 64 * 1024, delayMs: 50 };
});

after(async () => {
  await hub.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('export of a Hub model prints its download progress on stderr', async () => {
  const out = path.join(tmp, 'map.svg');
  const { stderr } = await promisify(execFile)(
    process.execPath,
    [path.join(repoRoot, 'dist/cli.js'), 'export', '--model', REPO, '--text', 'Once upon a time', '--out', out],
    {
      cwd: tmp,
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        ...process.env,
        HF_ENDPOINT: hub.url,
        HF_HUB_CACHE: path.join(tmp, 'hub'),
        HF_HUB_OFFLINE: '',
        HF_TOKEN: '',
      },
    },
  );
  const lines = stderr.split('\n').filter((l) => l.startsWith('downloading '));
  assert.ok(lines.includes('downloading config.json: 651 of 651 bytes, done'), stderr);
  assert.ok(lines.includes('downloading tokenizer.json: 14.8 of 14.8 kB, done'), stderr);
  assert.equal(lines.at(-1), 'downloading model.safetensors: 1.0 of 1.0 MB, done', stderr);
  // The weights' first line: their first piece, without a speed.
  assert.ok(lines.includes('downloading model.safetensors: 0.1 of 1.0 MB'), stderr);
  assert.ok(fs.readFileSync(out, 'utf8').includes('<svg'));
});
