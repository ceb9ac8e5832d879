// The WebGPU backend's rules outside a browser: Node refuses 'webgpu' with a message that says where it runs, 'auto'
// still picks native/wasm there, and the fit check of webview/inference/gpu.ts sizes the largest GPU buffer from the
// config and the weights and compares it with the adapter's limits.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createSession, inNode, loadBackend, resolveBackend } from '../../../../runtime/backend/ort';
import { parseConfig } from '../../../../runtime/formats/config-normalise';
import { bytesWeights } from '../../../../runtime/formats/weight-bytes';
import { isLensError } from '../../../../runtime/errors';
import { largestBuffer, misfit } from '../../../../webview/inference/gpu';
import { fixtureModel } from '../../../helpers/fixtures';

const stories = fixtureModel('stories260K');

test('in Node, the webgpu backend is refused with where it runs; auto picks native or wasm', async () => {
  assert.equal(inNode, true);
  const refused = (e: unknown) =>
    isLensError(e) && e.code === 'BACKEND_UNAVAILABLE' && /WebGPU runs only in the panel/.test(e.message);
  await assert.rejects(loadBackend('webgpu', 1), refused);
  await assert.rejects(createSession(new Uint8Array(0), { backend: 'webgpu', threads: 1 }), refused);
  assert.ok(['native', 'wasm'].includes(await resolveBackend('auto', 1)));
});

test('the fit check finds the largest weight or activation and compares it with the adapter limits', () => {
  const config = parseConfig(readFileSync(join(stories, 'config.json'), 'utf8'));
  const weights = bytesWeights([
    { name: 'model.safetensors', bytes: new Uint8Array(readFileSync(join(stories, 'model.safetensors'))) },
  ]);
  // stories260K: vocab 512, hidden 64, 8 heads, intermediate 172, 512 positions.
  const embed = 512 * 64 * 4;
  assert.equal(config.vocabSize * config.hidden * 4, embed);
  const short = largestBuffer(config, weights, 16);
  assert.equal(short.bytes, embed, short.what);
  assert.match(short.what, /^weight /);
  const long = largestBuffer(config, weights, 512);
  assert.equal(long.bytes, 8 * 512 * 512 * 4); // attention [1, 8, 512, 512]
  assert.match(long.what, /attention at 512 tokens/);
  assert.equal(misfit(long, { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 27 }), undefined);
  const why = misfit(long, { maxBufferSize: 2 ** 28, maxStorageBufferBindingSize: 2 ** 20 });
  assert.match(
    why ?? '',
    /does not fit the GPU's limits: its attention at 512 tokens needs 8\.0 MB, the adapter binds at most 1\.0 MB/,
  );
});
