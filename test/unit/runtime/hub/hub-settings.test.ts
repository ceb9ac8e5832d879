// Tests for runtime/hub/hub-settings.ts: the endpoint as the downloader uses it (trailing slashes, a mirror's path,
// the option before HF_ENDPOINT), and the token's transport rule — https anywhere, plain http only to this machine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hubEndpoint, isLoopbackHost, tokenTransport } from '../../../../runtime/hub/hub-settings';

test('the endpoint: the option, else HF_ENDPOINT, else huggingface.co; normalised, a mirror path kept', () => {
  assert.equal(hubEndpoint(undefined, {}), 'https://huggingface.co');
  assert.equal(hubEndpoint('  ', { HF_ENDPOINT: 'https://hf-mirror.com/' }), 'https://hf-mirror.com');
  assert.equal(hubEndpoint('https://Mirror.Example/hf//', { HF_ENDPOINT: 'https://x.y' }), 'https://mirror.example/hf');
  assert.equal(hubEndpoint('http://127.0.0.1:8080', {}), 'http://127.0.0.1:8080');
  assert.throws(() => hubEndpoint(undefined, { HF_ENDPOINT: 'huggingface.co' }), /"huggingface\.co" \(HF_ENDPOINT\)/);
  assert.throws(() => hubEndpoint('file:///tmp/hub', {}, 'the setting'), /\(the setting\) is not an http\(s\) address/);
  assert.throws(() => hubEndpoint('https://x.y/?a=1', {}), /has a query or fragment/);
});

test('a token travels over https anywhere, and over plain http only to this machine', () => {
  for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', 'LOCALHOST'])
    assert.ok(isLoopbackHost(host), host);
  for (const host of ['10.0.0.1', '128.0.0.1', 'localhost.example.com', '127.0.0.1.nip.io', '[::2]', '0.0.0.0'])
    assert.ok(!isLoopbackHost(host), host);
  assert.equal(tokenTransport('https://huggingface.co'), 'https');
  assert.equal(tokenTransport('https://10.0.0.1:8443/hf'), 'https');
  assert.equal(tokenTransport('http://127.0.0.1:9999'), 'loopback');
  assert.equal(tokenTransport('http://[::1]:9999'), 'loopback');
  assert.equal(tokenTransport('http://mirror.example'), 'clear');
  assert.equal(tokenTransport('http://192.168.1.5:8080'), 'clear');
});
