// The CLI's bad-input catalogue: every bad input a user can give `attention-lens` (node dist/cli.js, run as users
// run it), with the one line it must answer and exit code 2 — or, for inputs that still run, the one warning line
// and exit code 0. Fixtures are built here: copies of stories260K with a broken config, a NaN weight, weights that
// overflow, a truncated file, a tokenizer that does not fit; special files (devices, a FIFO, links); inputs too
// large to read; a local Hub (test/helpers/hub-server.ts) for what the user names as a Hub model and for a download
// interrupted with Ctrl-C. Cases that protect a file check that it is byte-for-byte what it was. Table format and
// runner: test/helpers/bad-input-catalogue.ts (shared with the Hub and extension catalogues).
import { before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { catalogue, type BadInputCase, type Outcome } from '../../helpers/bad-input-catalogue';
import { exportOnnx, externalize } from '../../helpers/onnx-export';
import { overflowAttention, putNaNWeight } from '../../helpers/broken-models';
import { tinyLlamaGguf, type MetaValue } from '../../helpers/gguf-write';
import {
  fixtureModel,
  fixturesDir,
  marianDatesCacheDirs,
  hfTinyModel,
  marianDatesDir,
  repoRoot,
  smolLm2Gguf,
} from '../../helpers/fixtures';
import { readModel } from '../../../runtime/models/read-model';
import { repoFolderName } from '../../../runtime/hub/cache-layout';
import { repoFromFolder, startHubServer, type HubServer } from '../../helpers/hub-server';

const ROOT = repoRoot;
const S = fixtureModel('stories260K');
/** The CLI under test; CATALOGUE_CLI points the catalogue at another build (e.g. an older main, to see it fail). */
const CLI = process.env.CATALOGUE_CLI ?? path.join(ROOT, 'dist/cli.js');
const TMP = fs.mkdtempSync(path.join(tmpdir(), 'lens-bad-input-'));
const TEXT = 'Once upon a time, there was a little girl named Lily.';
const LONG = 'Once upon a time. '.repeat(200); // ~1000 tokens; stories260K takes 512
const IS_ROOT = process.getuid?.() === 0;
const OLD = '{"old": true}\n';

const p = (...parts: string[]) => path.join(TMP, ...parts);
const model = (name: string) => p('models', name);

interface CliInput {
  args: string[];
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Send SIGINT once this is true (polled every 20 ms). */
  interruptWhen?: () => boolean;
}
/** study of the empty-text data into `out` (the --out refusals). */
const studyInto = (out: string) => [
  'study',
  '--model',
  M,
  '--data',
  p('empty-text.jsonl'),
  '--target',
  'next',
  '--methods',
  'loo',
  '--out',
  out,
];
const cli =
  (...args: string[]): (() => CliInput) =>
  () => ({ args });

function runCli(input: CliInput, c: BadInputCase<CliInput>): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...input.args], {
      cwd: TMP,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...input.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const kill = setTimeout(() => child.kill('SIGKILL'), c.timeoutMs ?? 60_000);
    const poll = input.interruptWhen
      ? setInterval(() => {
          if (input.interruptWhen!()) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 20)
      : undefined;
    child.on('close', (code) => {
      clearTimeout(kill);
      if (poll) clearInterval(poll);
      // Progress lines (a study's examples, a Hub download) are not messages.
      const lines = stderr.split('\n').filter((l) => l !== '' && !/^(study \[|downloading )/.test(l));
      const warning = (l: string) => l.startsWith('attention-lens: warning: ');
      resolve({
        code,
        errors: lines.filter((l) => !warning(l)),
        warnings: lines.filter(warning),
        output: stdout,
        raw: stderr,
      });
    });
  });
}

// ----- fixtures ------------------------------------------------------------------------------------------------

const MODEL_FILES = [
  'config.json',
  'model.safetensors',
  'tokenizer.json',
  'tokenizer_config.json',
  'special_tokens_map.json',
];

/** A writable copy of stories260K, changed by `change`. */
function copyModel(name: string, change: (dir: string) => void = () => undefined): string {
  const dir = model(name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of MODEL_FILES) fs.copyFileSync(path.join(S, f), path.join(dir, f));
  for (const f of MODEL_FILES) fs.chmodSync(path.join(dir, f), 0o644);
  change(dir);
  return dir;
}

function editConfig(dir: string, edit: Record<string, unknown>): void {
  const file = path.join(dir, 'config.json');
  fs.writeFileSync(file, JSON.stringify({ ...JSON.parse(fs.readFileSync(file, 'utf8')), ...edit }));
}

/** A file of `size` bytes that starts with `head` and is sparse after it (no disk used for the rest). */
function sparseFile(file: string, head: string, size: number, tail = ''): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, head);
  if (tail) fs.writeSync(fd, tail, size - Buffer.byteLength(tail));
  else fs.ftruncateSync(fd, size);
  fs.closeSync(fd);
}

const snapshot = new Map<string, Buffer>();
/** Remembers a file's bytes; intact() asserts they did not change. */
const keep = (file: string) => snapshot.set(file, fs.readFileSync(file));
const intact = (file: string) => assert.deepEqual(fs.readFileSync(file), snapshot.get(file), `${file} is unchanged`);
const partials = (dir: string) => fs.readdirSync(dir).filter((f) => f.endsWith('.partial'));
const noOutput = (file: string) => () => assert.ok(!fs.existsSync(file), `${file} was not created`);

let M = ''; // a plain writable copy of stories260K: its files must survive every case

before(() => {
  if (!fs.existsSync(path.join(S, 'model.safetensors'))) throw new Error(`Missing test model ${S}.`);
  if (!process.env.CATALOGUE_CLI) execFileSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, stdio: 'pipe' });
  M = copyModel('M');
  for (const f of MODEL_FILES) keep(path.join(M, f));
  fs.symlinkSync('model.safetensors', path.join(M, 'weights-link.json'));

  copyModel('rope0', (d) => editConfig(d, { rope_theta: 0 }));
  copyModel('rope-negative', (d) => editConfig(d, { rope_theta: -1, rope_scaling: null }));
  copyModel('rope-ntk', (d) => editConfig(d, { rope_parameters: { rope_type: 'ntk-by-parts', rope_theta: 10000 } }));
  copyModel('eps', (d) => editConfig(d, { rms_norm_eps: -1 }));
  copyModel('nan-literal', (d) =>
    fs.writeFileSync(
      path.join(d, 'config.json'),
      fs.readFileSync(path.join(d, 'config.json'), 'utf8').replace(/"rms_norm_eps":\s*[^,}]+/, '"rms_norm_eps": NaN'),
    ),
  );
  copyModel('heads', (d) => editConfig(d, { num_attention_heads: 5, num_key_value_heads: 5, head_dim: undefined }));
  copyModel('kv-heads', (d) => editConfig(d, { num_key_value_heads: 3 }));
  copyModel('fewer-layers', (d) => editConfig(d, { num_hidden_layers: 3 }));
  copyModel('nan-weight', putNaNWeight);
  copyModel('overflow', overflowAttention);
  copyModel('truncated', (d) => {
    const f = path.join(d, 'model.safetensors');
    const b = fs.readFileSync(f);
    fs.writeFileSync(f, b.subarray(0, b.length >> 1));
  });
  // pytorch_model.bin instead of model.safetensors: a pickle that would run os.system('ls') in Python, and a cut one.
  copyModel('pickle-call', (d) => {
    fs.rmSync(path.join(d, 'model.safetensors'));
    const call = [
      Buffer.from([0x80, 2]),
      Buffer.from('cposix\nsystem\nX\x02\x00\x00\x00ls', 'latin1'),
      Buffer.from([0x85, 0x52, 0x2e]),
    ];
    fs.writeFileSync(path.join(d, 'pytorch_model.bin'), Buffer.concat(call));
  });
  copyModel('cut-bin', (d) => {
    fs.rmSync(path.join(d, 'model.safetensors'));
    const b = fs.readFileSync(path.join(fixturesDir, 'torch', 'synthetic-zip.bin'));
    fs.writeFileSync(path.join(d, 'pytorch_model.bin'), b.subarray(0, b.length >> 1));
  });
  copyModel('corrupt', (d) => {
    const f = path.join(d, 'model.safetensors');
    const b = fs.readFileSync(f);
    b.fill(0x7b, 8, 64);
    fs.writeFileSync(f, b);
  });
  copyModel('shape', (d) => editConfig(d, { intermediate_size: 100 }));
  copyModel('xlnet', (d) => fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ model_type: 'xlnet' })));
  copyModel('type-break', (d) =>
    fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ model_type: 'bert\nxlnet' })),
  );
  copyModel('weights-dir', (d) => {
    fs.rmSync(path.join(d, 'model.safetensors'));
    fs.mkdirSync(path.join(d, 'model.safetensors'));
  });
  copyModel('weights-loop', (d) => {
    fs.rmSync(path.join(d, 'model.safetensors'));
    fs.symlinkSync('model.safetensors', path.join(d, 'model.safetensors'));
  });
  // The tokenizer gives "▁Once" the id 700; stories260K's vocabulary has 512.
  copyModel('oov-tokenizer', (d) => {
    const f = path.join(d, 'tokenizer.json');
    const tok = JSON.parse(fs.readFileSync(f, 'utf8'));
    tok.model.vocab['▁Once'] = 700;
    fs.writeFileSync(f, JSON.stringify(tok));
  });
  fs.mkdirSync(model('empty'), { recursive: true });
  copyModel('encoder', (d) => editConfig(d, { model_type: 'bert', type_vocab_size: 2, layer_norm_eps: 1e-12 }));

  // optimum exports with a key/value cache, broken: a cache decoder without its encoder; past names that do not match.
  const cacheExport = marianDatesCacheDirs.past;
  const sides = fs.readdirSync(cacheExport).filter((f) => !f.endsWith('.onnx'));
  const copyCache = (name: string, graphs: string[], from = cacheExport) => {
    fs.mkdirSync(model(name), { recursive: true });
    for (const f of [...sides.map((x) => path.join(cacheExport, x)), ...graphs.map((g) => path.join(from, g))])
      fs.copyFileSync(f, path.join(model(name), path.basename(f)));
  };
  copyCache('cache-no-encoder', ['decoder_with_past_model.onnx']);
  copyCache('merged-no-encoder', ['decoder_model_merged.onnx'], marianDatesCacheDirs.merged);
  copyCache('merged-guidance', ['encoder_model.onnx', 'decoder_model_merged.onnx'], marianDatesCacheDirs.merged);
  const generation = path.join(model('merged-guidance'), 'generation_config.json');
  fs.writeFileSync(
    generation,
    JSON.stringify({ ...JSON.parse(fs.readFileSync(generation, 'utf8')), guidance_scale: 1.5 }),
  );
  // hf-tiny/mbart's weights with transformers' own MBart50Tokenizer: a model with language codes.
  fs.mkdirSync(model('mbart50'), { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
    fs.copyFileSync(path.join(fixturesDir, 'models', 'hf-tiny', 'mbart', f), path.join(model('mbart50'), f));
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(fixturesDir, 'tokenizers', 'mbart', 'mbart-50', f), path.join(model('mbart50'), f));
  copyCache('cache-mismatch', ['encoder_model.onnx', 'decoder_model.onnx', 'decoder_with_past_model.onnx']);
  // Same length, so every protobuf length stays right: the step's cache input names a layer the export lacks.
  const step = path.join(model('cache-mismatch'), 'decoder_with_past_model.onnx');
  const renamed = fs
    .readFileSync(step)
    .toString('latin1')
    .replaceAll('past_key_values.1.decoder.key', 'past_key_values.9.decoder.key');
  fs.writeFileSync(step, Buffer.from(renamed, 'latin1'));

  // An ONNX export whose external data file is a folder.
  const onnxDir = model('onnx-data-dir');
  fs.mkdirSync(onnxDir, { recursive: true });
  return readModel(S).then((source) => {
    exportOnnx(source, S, onnxDir);
    fs.mkdirSync(model('onnx-export'));
    exportOnnx(source, S, model('onnx-export'));
    externalize(path.join(onnxDir, 'model.onnx'));
    fs.rmSync(path.join(onnxDir, 'model.onnx_data'));
    fs.mkdirSync(path.join(onnxDir, 'model.onnx_data'));

    fs.mkdirSync(p('out'));
    fs.mkdirSync(p('hub'));
    fs.writeFileSync(p('text.txt'), TEXT);
    keep(p('text.txt'));
    for (const dir of ['keep-1', 'keep-2', 'sigint', 'sigint-hub']) {
      fs.mkdirSync(p(dir));
      fs.writeFileSync(p(dir, 'old.json'), OLD);
      keep(p(dir, 'old.json'));
    }
    fs.writeFileSync(
      p('bad-utf8.txt'),
      Buffer.concat([Buffer.from('Once '), Buffer.from([0xff]), Buffer.from(' upon a time')]),
    );
    sparseFile(p('two-mb.txt'), TEXT + '\n', 2 * 2 ** 20);
    sparseFile(p('huge.txt'), `${TEXT} `.repeat(2000), 300 * 2 ** 20);
    fs.writeFileSync(p('not-json.jsonl'), ['"Once upon a time."', '{oops', '"The dog ran to the tree."'].join('\n'));
    fs.writeFileSync(p('empty-text.jsonl'), ['"Once upon a time."', '""', '"The dog ran to the tree."'].join('\n'));
    fs.writeFileSync(p('all-bad.jsonl'), ['{oops', '[1, 2]'].join('\n'));
    fs.writeFileSync(
      p('target-type.jsonl'),
      ['"Once upon a time."', '{"text": "The dog ran to the tree.", "target": 5}', '"Tom liked to play."'].join('\n'),
    );
    fs.writeFileSync(
      p('mixed-measures.jsonl'),
      [
        '{"text": "Once upon a time", "target": "next"}',
        '{"text": "Once upon a time", "target": "prob:next"}',
        '{"text": "Once upon a time", "target": "contrast:a|the"}',
        '"Once upon a time there was"',
      ].join('\n'),
    );
    fs.writeFileSync(
      p('dates-bad-target.jsonl'),
      ['"March 3 1987"', '{"text": "the 2nd of July, 1999", "target_text": 5}'].join('\n'),
    );
    sparseFile(p('huge-line.jsonl'), '"Once upon a time."\n"', 300 * 2 ** 20, '"\n"The dog ran to the tree."\n');
    fs.mkdirSync(p('study-in-place'));
    fs.writeFileSync(p('study-in-place', 'examples.jsonl'), '"Once upon a time."\n');
    keep(p('study-in-place', 'examples.jsonl'));
    execFileSync('mkfifo', [p('fifo')]);
    execFileSync('mkfifo', [p('mf.gguf')]);
    // GGUF files whose head count or hidden size cannot give a head size; rope.dimension_count 16 is the good file's
    // head size (32 / 2), so that only the broken key is wrong.
    const rope16 = { 'llama.rope.dimension_count': { u32: 16 } };
    const gguf = (name: string, meta: Record<string, MetaValue>) =>
      fs.writeFileSync(model(name), tinyLlamaGguf({ meta: { ...rope16, ...meta } }));
    gguf('heads0.gguf', { 'llama.attention.head_count': { u32: 0 } });
    gguf('heads3.gguf', { 'llama.attention.head_count': { u32: 3 } });
    gguf('hidden-max.gguf', { 'llama.embedding_length': { u32: 0xffffffff } });
    gguf('arch-break.gguf', { 'general.architecture': { str: 'llama\nmamba' + 'x'.repeat(300) } });
    // The first part of a model split by llama-gguf-split (its metadata, half the tensors).
    fs.writeFileSync(
      model('split-00001-of-00002.gguf'),
      tinyLlamaGguf({
        meta: { 'split.no': { u32: 0 }, 'split.count': { u32: 2 }, 'split.tensors.count': { u32: 11 } },
        tensors: (t) => t.slice(0, 6),
      }),
    );
    // An LM Studio repository folder: publisher/repo/file.gguf, no config.json.
    fs.mkdirSync(path.join(model('lmstudio-pub'), 'tiny-repo'), { recursive: true });
    fs.writeFileSync(path.join(model('lmstudio-pub'), 'tiny-repo', 'tiny-Q8_0.gguf'), tinyLlamaGguf());
    fs.symlinkSync(p('nowhere.json'), p('dangling.json'));
    // Side files that are not files: a FIFO (an open would wait for a writer, and keep the process from exiting), a
    // device, a folder, a loop of links, a file far larger than any such file.
    copyModel('config-fifo', (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      execFileSync('mkfifo', [path.join(d, 'config.json')]);
    });
    copyModel('tokenizer-fifo', (d) => {
      fs.rmSync(path.join(d, 'tokenizer.json'));
      execFileSync('mkfifo', [path.join(d, 'tokenizer.json')]);
    });
    copyModel('generation-config-fifo', (d) => execFileSync('mkfifo', [path.join(d, 'generation_config.json')]));
    copyModel('tokenizer-config-device', (d) => {
      fs.rmSync(path.join(d, 'tokenizer_config.json'));
      fs.symlinkSync(DEVICE(), path.join(d, 'tokenizer_config.json'));
    });
    copyModel('config-folder', (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.mkdirSync(path.join(d, 'config.json'));
    });
    copyModel('config-loop', (d) => {
      fs.rmSync(path.join(d, 'config.json'));
      fs.symlinkSync('loop.json', path.join(d, 'config.json'));
      fs.symlinkSync('config.json', path.join(d, 'loop.json'));
    });
    copyModel('tokenizer-huge', (d) => sparseFile(path.join(d, 'tokenizer.json'), '{', 300 * 2 ** 20));
    copyModel('config-huge', (d) => sparseFile(path.join(d, 'config.json'), '{', 20 * 2 ** 20));
    // A normalizer whose pattern backtracks exponentially on the case's text (without the limit: hours, past SIGTERM).
    copyModel('tokenizer-redos', (d) => {
      const file = path.join(d, 'tokenizer.json');
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { normalizer: { normalizers: unknown[] } };
      json.normalizer.normalizers.unshift({ type: 'Replace', pattern: { Regex: '(a+)+$' }, content: '' });
      fs.writeFileSync(file, JSON.stringify(json));
    });
    // GGUF tokenizers whose merges cannot be known: an empty merges list (byte-level), a NaN among the scores a
    // sentencepiece vocabulary's merges are recovered from (same 6 tokens as the embedding rows).
    gguf('merges-empty.gguf', { 'tokenizer.ggml.merges': { strs: [] } });
    fs.writeFileSync(
      model('scores-nan.gguf'),
      tinyLlamaGguf({
        meta: {
          ...rope16,
          'tokenizer.ggml.model': { str: 'llama' },
          'tokenizer.ggml.pre': undefined,
          'tokenizer.ggml.merges': undefined,
          'tokenizer.ggml.tokens': { strs: ['<unk>', '<s>', '</s>', '▁', 'a', '▁a'] },
          'tokenizer.ggml.token_type': { i32s: [2, 3, 3, 1, 1, 1] },
          'tokenizer.ggml.scores': { f32s: [0, 0, 0, -1, -2, NaN] },
          'tokenizer.ggml.eos_token_id': { u32: 2 },
          'tokenizer.ggml.bos_token_id': { u32: 1 },
        },
      }),
    );
    // Device nodes of our own (root can make them), so that no case ever touches /dev itself.
    if (IS_ROOT) {
      execFileSync('mknod', [p('null'), 'c', '1', '3']);
      execFileSync('mknod', [p('zero'), 'c', '1', '5']);
    }
  });
});

after(() => fs.rmSync(TMP, { recursive: true, force: true }));

// A local Hub serving stories260K slowly (16 KB every 100 ms: its weights take seconds), for the Hub cases.
const HUB_REPO = 'lens-test/stories260K';
let hub: HubServer | undefined;
before(async () => {
  hub = await startHubServer({ [HUB_REPO]: repoFromFolder(HUB_REPO, S) });
  hub.faults.slow = { bytes: 16 * 1024, delayMs: 100 };
});
after(() => hub?.close());

/** The environment of a Hub case: the local Hub, a cache of its own, no token, online. */
const hubEnv = (cache: string, endpoint = hub!.url) => ({
  HF_ENDPOINT: endpoint,
  HF_HUB_CACHE: p(cache),
  HF_HUB_OFFLINE: '',
  HF_TOKEN: '',
});
/** The files under a Hub cache's repository folder, relative to it. */
const cacheFiles = (cache: string): string[] => {
  const dir = p(cache, repoFolderName(HUB_REPO));
  return fs.existsSync(dir) ? (fs.readdirSync(dir, { recursive: true }) as string[]).sort() : [];
};

const isCharDevice = (file: string) => () =>
  assert.ok(fs.statSync(file).isCharacterDevice(), `${file} is still a device`);
/** A device other than /dev/null and a terminal: our own node as root, else /dev/zero (read and write only). */
const DEVICE = () => (IS_ROOT ? p('zero') : '/dev/zero');
const NULL_DEVICE = () => (IS_ROOT ? p('null') : '/dev/null');

const cases: BadInputCase<CliInput>[] = [
  // ----- the command line
  { name: 'no --model', input: cli('run', '--text', 'hi'), expect: /Missing --model/ },
  {
    name: 'unknown command',
    input: cli('walk'),
    expect:
      /Unknown command "walk"; the commands are `attention-lens run`, `export`, `explain`, `study` and `generate`/,
  },
  {
    name: 'unknown option',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--colour'] }),
    expect: /Unknown option --colour\. See/,
  },
  {
    name: '--text and --file both',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--file', 'x.txt'] }),
    expect: /either --text or --file/,
  },
  {
    name: 'neither --text nor --file',
    input: () => ({ args: ['run', '--model', M] }),
    expect: /--text TEXT or --file PATH/,
  },
  {
    name: 'an option without its value',
    input: () => ({ args: ['run', '--model', M, '--text'] }),
    expect: /--text needs a value/,
  },
  {
    name: 'an option given twice with different values (parseArgs would keep the last, silently)',
    input: () => ({ args: ['run', '--model', M, '--text', 'Once upon a time', '--threads', '1', '--text', 'Lily'] }),
    expect:
      /^attention-lens: --text is given twice \("Once upon a time" and "Lily"\): give it once\. See `attention-lens --help`\.$/,
  },
  {
    name: 'explain: the same for its own options (--methods)',
    input: () => ({ args: ['explain', '--model', M, '--text', 'hi', '--methods', 'rollout', '--methods', 'norm'] }),
    expect: /--methods is given twice \("rollout" and "norm"\): give it once/,
  },
  {
    name: 'a stray argument',
    input: () => ({ args: ['run', '--model', M, 'hello'] }),
    expect: /Unexpected argument "hello": every value follows its option/,
  },
  {
    name: 'a negative --layer reads as an option (export --layer -1)',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--out', p('out', 'x.png'), '--layer', '-1'] }),
    expect: /^attention-lens: --layer -1: a value that starts with "-" is taken for an option; write --layer=-1/,
  },
  {
    name: 'a --model that starts with a dash',
    input: cli('run', '--model', '-t/ok', '--text', 'hi'),
    expect: /--model -t\/ok: .*write --model=-t\/ok/,
  },
  {
    name: 'bad --backend',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--backend', 'gpu'] }),
    expect: /Unknown --backend "gpu"/,
  },
  {
    name: 'bad --threads',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--threads', 'two'] }),
    expect: /--threads must be a whole number/,
  },
  {
    name: 'bad --max-input-mb',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--max-input-mb', '0'] }),
    expect: /--max-input-mb must be a number of megabytes above 0/,
  },
  {
    name: '--threads beyond the cores is capped, and says so',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--backend', 'wasm', '--threads', '256'] }),
    kind: 'warning',
    code: 0,
    expect: /--threads 256 is more than the \d+ cores of this machine; using \d+/,
    check: (o) => assert.match(o.output, /backend\s+wasm, \d+ threads?\n/),
  },

  // ----- the model
  { name: 'missing model folder', input: cli('run', '--model', p('nope'), '--text', 'hi'), expect: /does not exist/ },
  {
    name: '--model is a file',
    input: () => ({ args: ['run', '--model', path.join(M, 'config.json'), '--text', 'hi'] }),
    expect: /is not a folder nor an \.onnx or \.gguf file/,
  },
  {
    name: '--model a device',
    input: () => ({ args: ['run', '--model', NULL_DEVICE(), '--text', 'hi'] }),
    code: 2,
    expect:
      /^attention-lens: \S+ is a device, not a model folder or file; give the model's folder \(with config\.json and the weights\), an \.onnx or \.gguf file, or a Hugging Face id\.$/,
  },
  {
    name: '--model /dev/zero (or our own zero device)',
    input: () => ({ args: ['run', '--model', DEVICE(), '--text', 'hi'] }),
    code: 2,
    expect: /is a device, not a model folder or file/,
  },
  {
    name: '--model a named pipe called mf.gguf (no hang)',
    input: () => ({ args: ['run', '--model', p('mf.gguf'), '--text', 'hi'] }),
    code: 2,
    expect: /mf\.gguf is a named pipe \(FIFO\), not a model folder or file; give the model's folder/,
    timeoutMs: 20_000,
  },
  {
    name: 'config.json a named pipe (no hang: the load ends, and the process)',
    input: cli('run', '--model', model('config-fifo'), '--text', 'hi'),
    code: 2,
    expect: /config-fifo\/config\.json is a named pipe \(FIFO\), not a file: put the model's config\.json there\./,
    timeoutMs: 20_000,
  },
  {
    name: 'tokenizer.json a named pipe',
    input: cli('run', '--model', model('tokenizer-fifo'), '--text', 'hi'),
    code: 2,
    expect: /tokenizer\.json is a named pipe \(FIFO\), not a file: put the model's tokenizer\.json there\./,
    timeoutMs: 20_000,
  },
  {
    name: 'generation_config.json a named pipe',
    input: cli('run', '--model', model('generation-config-fifo'), '--text', 'hi'),
    code: 2,
    expect: /generation_config\.json is a named pipe \(FIFO\), not a file/,
    timeoutMs: 20_000,
  },
  {
    name: 'tokenizer_config.json a link to a device (never read until memory runs out)',
    input: cli('run', '--model', model('tokenizer-config-device'), '--text', 'hi'),
    code: 2,
    expect: /tokenizer_config\.json is a device, not a file: put the model's tokenizer_config\.json there\./,
    timeoutMs: 20_000,
  },
  {
    name: 'config.json a folder',
    input: cli('run', '--model', model('config-folder'), '--text', 'hi'),
    code: 2,
    expect: /config-folder\/config\.json is a folder, not a file/,
  },
  {
    name: 'config.json a loop of links',
    input: cli('run', '--model', model('config-loop'), '--text', 'hi'),
    code: 2,
    expect: /config-loop\/config\.json is a loop of symbolic links: replace it\./,
  },
  {
    name: 'tokenizer.json of 300 MB (larger than any: not parsed)',
    input: cli('run', '--model', model('tokenizer-huge'), '--text', 'hi'),
    code: 2,
    expect: /tokenizer\.json is 300 MB, larger than any model's tokenizer\.json \(at most 256 MB\)/,
  },
  {
    name: 'config.json of 20 MB (larger than any: not parsed)',
    input: cli('run', '--model', model('config-huge'), '--text', 'hi'),
    code: 2,
    expect: /config-huge\/config\.json is 20 MB, larger than any model's config\.json \(at most 16 MB\)/,
  },
  {
    name: 'a tokenizer.json pattern that backtracks without end on the text: stopped after 5 s, named (no hang)',
    input: cli('run', '--model', model('tokenizer-redos'), '--text', 'a'.repeat(34) + '!'),
    code: 2,
    expect:
      /tokenizer-redos\/tokenizer\.json: the normalizer's regular expression "\(a\+\)\+\$" takes more than 5 s on a text of 35 characters \(it backtracks exponentially on such texts\), so the tokenizer cannot be used: fix the pattern in the file, or pick another model\.$/,
    timeoutMs: 30_000,
  },
  {
    name: 'a GGUF with an empty tokenizer.ggml.merges (every text would be single characters)',
    input: cli('run', '--model', model('merges-empty.gguf'), '--text', 'hi'),
    code: 2,
    expect:
      /merges-empty\.gguf.*tokenizer\.ggml\.merges is empty, and a BPE vocabulary of 6 tokens needs its merges \(re-convert the model\)/,
  },
  {
    name: 'a sentencepiece GGUF with a NaN score (its merges have no order)',
    input: cli('run', '--model', model('scores-nan.gguf'), '--text', 'hi'),
    code: 2,
    expect: /scores-nan\.gguf.*tokenizer\.ggml\.scores\[5\] \(the score of "▁a"\) is NaN, not a number/,
  },
  {
    name: 'the first part of a split GGUF: said so, with how to merge it',
    input: () => ({ args: ['run', '--model', model('split-00001-of-00002.gguf'), '--text', 'hi'] }),
    expect:
      /split-00001-of-00002\.gguf is part 1 of a GGUF model split into 2 files, and Attention Lens reads a model from one file: merge the parts with llama\.cpp \(llama-gguf-split --merge/,
  },
  {
    name: 'an LM Studio repository folder (a .gguf inside, no config.json): names the file to give',
    input: () => ({ args: ['run', '--model', model('lmstudio-pub'), '--text', 'hi'] }),
    expect:
      /has no config\.json but holds GGUF files \(tiny-repo\/tiny-Q8_0\.gguf\): give one of them as the model \(.*lmstudio-pub\/tiny-repo\/tiny-Q8_0\.gguf\)/,
  },
  {
    name: 'a GGUF whose head count is 0: named by its key, before the head size is used',
    input: () => ({ args: ['run', '--model', model('heads0.gguf'), '--text', 'hi'] }),
    code: 2,
    expect:
      /^attention-lens: heads0\.gguf \(GGUF metadata\): field llama\.attention\.head_count must be a positive integer, found 0\.$/,
  },
  {
    name: 'a GGUF whose head count does not divide the hidden size',
    input: () => ({ args: ['run', '--model', model('heads3.gguf'), '--text', 'hi'] }),
    code: 2,
    expect:
      /^attention-lens: heads3\.gguf \(GGUF metadata\): llama\.embedding_length 32 is not a multiple of llama\.attention\.head_count 3, and there is no llama\.attention\.key_length to give the head size\.$/,
  },
  {
    name: 'a GGUF whose embedding_length is 0xffffffff',
    input: () => ({ args: ['run', '--model', model('hidden-max.gguf'), '--text', 'hi'] }),
    code: 2,
    expect:
      /hidden-max\.gguf \(GGUF metadata\): llama\.embedding_length 4294967295 is not a multiple of llama\.attention\.head_count 2/,
  },
  {
    name: 'folder without config.json',
    input: () => ({ args: ['run', '--model', model('empty'), '--text', 'hi'] }),
    expect: /config\.json/,
  },
  {
    name: 'unsupported model_type',
    input: () => ({ args: ['run', '--model', model('xlnet'), '--text', 'hi'] }),
    expect: [/xlnet/, /bert/, /llama/, /marian, bart, mbart, t5/],
  },
  {
    name: 'config.json whose model_type holds a line break: one line, the value quoted with the break escaped',
    input: () => ({ args: ['run', '--model', model('type-break'), '--text', 'hi'] }),
    expect: /model_type "bert\\nxlnet" is not supported; supported: bert/,
  },
  {
    name: 'a GGUF whose general.architecture holds a line break and 300 more characters: one line, the value cut',
    input: () => ({ args: ['run', '--model', model('arch-break.gguf'), '--text', 'hi'] }),
    expect:
      /arch-break\.gguf: general\.architecture "llama\\nmambax{67}… \(314 characters\) is not supported in a GGUF file; Attention Lens runs GGUF files of architecture llama, /,
  },
  {
    name: 'truncated safetensors',
    input: () => ({ args: ['run', '--model', model('truncated'), '--text', 'hi'] }),
    expect: /truncated/i,
  },
  {
    name: 'corrupt safetensors header',
    input: () => ({ args: ['run', '--model', model('corrupt'), '--text', 'hi'] }),
    expect: /safetensors|header/i,
  },
  {
    name: 'a pytorch_model.bin whose pickle calls a Python function: refused by name, nothing run',
    input: () => ({ args: ['run', '--model', model('pickle-call'), '--text', 'hi'] }),
    expect: /pytorch_model\.bin is not a PyTorch state dict .*it calls posix\.system.*\(nothing was run\)/,
  },
  {
    name: 'a cut pytorch_model.bin',
    input: () => ({ args: ['run', '--model', model('cut-bin'), '--text', 'hi'] }),
    expect: /pytorch_model\.bin is a zip archive without its directory \(truncated\?\)/,
  },
  {
    name: 'weights that do not match config.json',
    input: () => ({ args: ['run', '--model', model('shape'), '--text', 'hi'] }),
    expect: /shape/i,
  },
  {
    name: 'a RoPE setting it does not implement is refused by name, not run as plain RoPE',
    input: () => ({ args: ['run', '--model', model('rope-ntk'), '--text', 'hi'] }),
    expect: [/rope_parameters\.rope_type/, /ntk-by-parts/],
  },
  {
    name: 'model.safetensors is a folder',
    input: () => ({ args: ['run', '--model', model('weights-dir'), '--text', 'hi'] }),
    expect: /model\.safetensors is a folder, not a file/,
  },
  {
    name: 'model.safetensors is a loop of symbolic links',
    input: () => ({ args: ['run', '--model', model('weights-loop'), '--text', 'hi'] }),
    expect: /model\.safetensors is a loop of symbolic links/,
  },
  {
    name: 'ONNX external data that is a folder',
    input: () => ({ args: ['run', '--model', model('onnx-data-dir'), '--text', 'hi'] }),
    expect: /keeps its weights in model\.onnx_data, which is a folder/,
  },
  {
    name: 'config with fewer layers than the weights runs, with a warning',
    input: () => ({ args: ['run', '--model', model('fewer-layers'), '--text', 'hi'] }),
    kind: 'warning',
    code: 0,
    expect: /config\.json gives 3 layers but the weights hold 5: layers 3–4 are not run/,
  },
  {
    name: 'a tokenizer id outside the vocabulary names the tokenizer, before any token is printed',
    input: () => ({ args: ['run', '--model', model('oov-tokenizer'), '--text', 'Once upon a time'] }),
    expect: /tokenizer\.json.*gives id 700 for "▁Once", outside .*vocabulary of 512 ids/,
    check: (o) => assert.doesNotMatch(o.output, /^tokens /m, 'no token table before the error'),
  },

  // ----- NaN and Inf are never shown as attention
  {
    name: 'rope_theta 0',
    input: () => ({ args: ['run', '--model', model('rope0'), '--text', TEXT] }),
    expect: /rope_theta must be a positive number, found 0/,
  },
  {
    name: 'a top-level rope_theta -1 (rope_scaling null) is named as written, not as rope_scaling.rope_theta',
    input: () => ({ args: ['run', '--model', model('rope-negative'), '--text', TEXT] }),
    code: 2,
    expect: /: rope_theta must be a positive number, found -1\.$/,
  },
  {
    name: 'rms_norm_eps -1',
    input: () => ({ args: ['run', '--model', model('eps'), '--text', TEXT] }),
    expect: /field rms_norm_eps must be a number greater than 0, found -1/,
  },
  {
    name: 'NaN written into config.json (Python json)',
    input: () => ({ args: ['run', '--model', model('nan-literal'), '--text', TEXT] }),
    expect: /holds NaN, which is not a number JSON allows/,
  },
  {
    name: 'heads that do not divide the hidden size, and no head_dim',
    input: () => ({ args: ['run', '--model', model('heads'), '--text', TEXT] }),
    expect: /is missing field head_dim/,
  },
  {
    name: 'query heads not a multiple of the key/value heads',
    input: () => ({ args: ['run', '--model', model('kv-heads'), '--text', TEXT] }),
    expect: /num_attention_heads 8 is not a multiple of num_key_value_heads 3/,
  },
  {
    name: 'a NaN weight is named at load',
    input: () => ({ args: ['run', '--model', model('nan-weight'), '--text', TEXT] }),
    expect: /Weight model\.layers\.2\.mlp\.up_proj\.weight holds NaN \(value 5 of/,
  },
  {
    name: 'attention that overflows stops at the first layer and head',
    input: () => ({ args: ['run', '--model', model('overflow'), '--text', TEXT] }),
    expect: /Layer 1, head 0 gave NaN attention/,
    check: (o) => assert.doesNotMatch(o.output, /^L1 /m, 'layer 1 is not printed'),
  },
  {
    name: 'run --out JSON of every map past 1 GiB: refused before the run, with what to use',
    input: () => ({
      args: ['run', '--model', smolLm2Gguf(), '--text', TEXT.repeat(70), '--out', p('out', 'long.json')],
    }),
    expect: [
      /--out would write at least [\d.]+ GB of JSON \(30 layers × 9 heads × \d+² weights\)/,
      /use --out FOLDER\/ \(a path ending in \/\), which writes one NPY per layer, or run less text\./,
    ],
    check: (o) => {
      noOutput(p('out', 'long.json'))();
      assert.doesNotMatch(o.output, /^L0 /m, 'no layer ran');
    },
  },
  {
    name: 'export --format json never writes NaN',
    input: () => ({ args: ['export', '--model', model('overflow'), '--text', TEXT, '--out', p('out', 'nan.json')] }),
    expect: /Layer 1, head 0 gave NaN attention/,
    check: noOutput(p('out', 'nan.json')),
  },
  {
    name: 'explain on attention that overflows: one line, no RangeError',
    input: () => ({ args: ['explain', '--model', model('overflow'), '--text', TEXT, '--target', 'next'] }),
    expect: /Layer 1, head 0 gave NaN attention/,
  },

  // ----- the input
  {
    name: 'empty text',
    input: () => ({ args: ['run', '--model', M, '--text', ''] }),
    expect: /The text is empty; give some text with --text or --file/,
  },
  { name: 'whitespace-only text', input: () => ({ args: ['run', '--model', M, '--text', '  \n '] }), expect: /empty/ },
  {
    name: '--chat with a model that has no chat template',
    input: cli('run', '--model', S, '--text', TEXT, '--chat'),
    expect: [/stories260K has no chat template/, /without --chat/],
  },
  // ----- encoder–decoder targets (tiny-marian-dates)
  {
    name: '--target-text with a decoder-only model',
    input: cli('run', '--model', S, '--text', TEXT, '--target-text', 'Es war einmal'),
    expect:
      /--target-text needs an encoder–decoder model \(marian, bart, mbart, t5\); stories260K is llama, so leave --target-text out/,
  },
  {
    name: '--translate with a decoder-only model',
    input: cli('export', '--model', S, '--text', TEXT, '--translate', '--out', 'x.json'),
    expect: /--translate needs an encoder–decoder model .*leave --translate out/,
  },
  {
    name: '--translate together with --target-text',
    input: cli(
      'run',
      '--model',
      marianDatesDir,
      '--text',
      'March 14 2021',
      '--translate',
      '--target-text',
      '2021-03-14',
    ),
    expect: /Give either --target-text TEXT \(score that translation\) or --translate, not both/,
  },
  {
    name: '--beams with a decoder-only model',
    input: cli('run', '--model', S, '--text', TEXT, '--beams', '4'),
    expect: /--beams needs an encoder–decoder model .*leave --beams out/,
  },
  {
    name: '--beams together with --target-text',
    input: cli(
      'run',
      '--model',
      marianDatesDir,
      '--text',
      'March 14 2021',
      '--beams',
      '2',
      '--target-text',
      '2021-03-14',
    ),
    expect: /--beams chooses a translation; --target-text is scored as given/,
  },
  {
    name: '--beams above 16 with an ONNX export',
    input: cli('run', '--model', marianDatesCacheDirs.merged, '--text', 'March 14 2021', '--beams', '17'),
    expect: /--beams must be a whole number from 1 to 16/,
  },
  {
    name: '--beams with an ONNX export whose generation_config sets what beam search does not implement',
    input: () => ({ args: ['run', '--model', model('merged-guidance'), '--text', 'March 14 2021', '--beams', '2'] }),
    expect: /generation_config\.json sets guidance_scale, which beam search here does not implement/,
  },
  {
    name: 'a greedy translation with an ONNX export whose generation_config sets what greedy search does not implement',
    input: () => ({ args: ['run', '--model', model('merged-guidance'), '--text', 'March 14 2021'] }),
    expect:
      /generation_config\.json sets guidance_scale, which translation here does not implement; give the target to score instead/,
  },
  {
    name: '--target-lang with a translation model that has no language codes (Marian)',
    input: cli('run', '--model', marianDatesDir, '--text', 'March 14 2021', '--target-lang', 'de_DE'),
    expect: /has no language codes, so it takes no target language: that is for mBART and mBART-50 models/,
  },
  {
    name: '--target-lang with a code the mBART-50 tokenizer does not have',
    input: () => ({ args: ['run', '--model', model('mbart50'), '--text', 'Hello world', '--target-lang', 'fr_FR'] }),
    expect: /"fr_FR" is not one of this model's 52 language codes \(ar_AR, cs_CZ, de_DE, en_XX, /,
  },
  {
    name: '--source-lang with a decoder-only model',
    input: cli('run', '--model', S, '--text', TEXT, '--source-lang', 'en_XX'),
    expect: /--source-lang needs an encoder–decoder model .*leave --source-lang out/,
  },
  {
    name: '--target-lang given as two words',
    input: cli('run', '--model', S, '--text', TEXT, '--target-lang', 'de DE'),
    expect: /--target-lang takes one of the model's language codes, such as de_DE; not "de DE"\./,
  },
  {
    name: 'a folder with a KV-cache decoder (decoder_with_past_model.onnx) but no encoder',
    input: () => ({ args: ['run', '--model', model('cache-no-encoder'), '--text', 'March 14 2021'] }),
    expect:
      /has a key\/value-cache decoder \(decoder_model_merged or decoder_with_past_model\) but no encoder_model\.onnx/,
  },
  {
    name: 'decoder_with_past_model.onnx named alone, without its encoder',
    input: () => ({
      args: ['run', '--model', path.join(model('cache-no-encoder'), 'decoder_with_past_model.onnx'), '--text', 'hi'],
    }),
    expect:
      /takes a key\/value cache input \(past_key_values\.0\.decoder\.key\); a cache decoder opens only with its encoder–decoder export/,
  },
  {
    name: 'decoder_model_merged.onnx named alone, without its encoder',
    input: () => ({
      args: ['run', '--model', path.join(model('merged-no-encoder'), 'decoder_model_merged.onnx'), '--text', 'hi'],
    }),
    expect:
      /decoder_model_merged\.onnx is a merged decoder with a key\/value cache \(it takes use_cache_branch\); it opens only with its encoder/,
  },
  {
    name: "a cache decoder whose past names are not the first decoder's present names",
    input: () => ({ args: ['run', '--model', model('cache-mismatch'), '--text', 'March 14 2021'] }),
    expect:
      /decoder_with_past_model\.onnx takes past_key_values\.9\.decoder\.key, but decoder_model\.onnx has no output present\.9\.decoder\.key to fill it/,
  },
  {
    name: '--beams 0',
    input: cli('run', '--model', marianDatesDir, '--text', 'March 14 2021', '--beams', '0'),
    expect: /--beams must be a whole number from 1 to 16 \(got "0"\)/,
  },
  {
    name: 'an empty --target-text',
    input: cli('run', '--model', marianDatesDir, '--text', 'March 14 2021', '--target-text', ' '),
    expect: /--target-text is empty; give the translation to score, or use --translate/,
  },
  {
    name: 'explain on an encoder–decoder model with a decoder-only target',
    input: cli('explain', '--model', marianDatesDir, '--text', 'March 14 2021', '--target', 'next'),
    expect:
      /The target "next" is a next-token prediction of a decoder-only model; tiny-marian-dates is an encoder–decoder model: use target, target:POS or contrast:A\|B@target:POS/,
  },
  {
    name: 'explain target:POS past the translation',
    input: cli('explain', '--model', marianDatesDir, '--text', 'March 14 2021', '--target', 'target:9'),
    expect: /target:9 is past the 6 target tokens \(POS 1\.\.6: "▁2021" "-" "03" "-" "14" "<\/s>"\)/,
  },
  {
    name: 'explain contrast on an encoder–decoder without the target position',
    input: cli('explain', '--model', marianDatesDir, '--text', 'March 14 2021', '--target', 'contrast:▁2021|▁2012'),
    expect: /needs the target position on an encoder–decoder model: contrast:▁2021\|▁2012@target:POS/,
  },
  {
    name: 'explain contrast with a token the target vocabulary does not have',
    input: cli(
      'explain',
      '--model',
      marianDatesDir,
      '--text',
      'March 14 2021',
      '--target',
      'contrast:▁2021|Zürich@target:1',
    ),
    expect: /"Zürich" is \d+ tokens .*not one; give one vocabulary token/,
  },
  {
    name: 'explain value-zeroing rollout on an encoder–decoder',
    input: cli(
      'explain',
      '--model',
      marianDatesDir,
      '--text',
      'March 14 2021',
      '--target',
      'target:1',
      '--methods',
      'loo,value-zeroing-rollout',
    ),
    expect:
      /"value-zeroing-rollout" multiplies one stack's layer matrices; an encoder–decoder's rollout of contributions is alti .*\(marian\); explain its source tokens with cross-attention, cross-rollout, loo, occlusion, saliency, grad-x-input, integrated-gradients, attn-x-grad, attnlrp, alti, value-zeroing\./,
  },
  {
    name: 'explain AttnLRP on a model type outside its rules (mistral)',
    input: cli(
      'explain',
      '--model',
      path.join(fixturesDir, 'models', 'hf-tiny', 'mistral'),
      '--text',
      TEXT,
      '--target',
      'next',
      '--methods',
      'loo,attnlrp',
    ),
    expect:
      /AttnLRP runs on the model types llama, qwen3, gpt2, bert, marian, bart, t5 and mbart \(its rules checked against the authors’ LXT\); this model is mistral: use gradient × input or Integrated Gradients\./,
  },
  {
    name: 'explain AttnLRP on an imported encoder–decoder ONNX export',
    input: cli(
      'explain',
      '--model',
      path.join(fixturesDir, 'models', 'tiny-marian-dates-onnx'),
      '--text',
      'March 14 2021',
      '--target',
      'target:1',
      '--methods',
      'loo,attnlrp',
    ),
    expect:
      /AttnLRP: Gradient methods need a model whose graphs this project builds \(a Hugging Face folder or a GGUF file\); an imported ONNX export cannot be differentiated/,
  },
  {
    name: 'explain AttnLRP on an imported ONNX export',
    input: () => ({
      args: ['explain', '--model', model('onnx-export'), '--text', TEXT, '--target', 'next', '--methods', 'attnlrp'],
    }),
    expect:
      /AttnLRP: Gradient methods need a model whose graphs this project builds .*an imported ONNX export cannot be differentiated/,
  },
  {
    name: 'explain --perturb hide on an encoder–decoder',
    input: cli(
      'explain',
      '--model',
      marianDatesDir,
      '--text',
      'March 14 2021',
      '--target',
      'target',
      '--perturb',
      'hide',
    ),
    expect: /--perturb hide needs an attention mask over the source.*use remove or mask-token/,
  },
  {
    name: 'explain --target-text with a decoder-only model',
    input: cli('explain', '--model', S, '--text', TEXT, '--target', 'next', '--target-text', 'Es war einmal'),
    expect:
      /--target-text needs an encoder–decoder model \(marian, bart, mbart, t5\); stories260K is llama, so leave --target-text out/,
  },
  {
    name: 'explain --layer outside the model',
    input: cli(
      'explain',
      '--model',
      S,
      '--text',
      TEXT,
      '--target',
      'next',
      '--methods',
      'raw-attention',
      '--layer',
      '99',
    ),
    expect: /--layer 99 is outside 0\.\.4: stories260K has 5 layers\./,
  },
  {
    name: 'explain --head outside the model',
    input: cli('explain', '--model', S, '--text', TEXT, '--target', 'next', '--methods', 'attn-x-grad', '--head', '8'),
    expect: /--head 8 is outside 0\.\.7: stories260K has 8 heads\./,
  },
  {
    name: 'explain --start-layer outside the model',
    input: cli(
      'explain',
      '--model',
      S,
      '--text',
      TEXT,
      '--target',
      'next',
      '--methods',
      'rollout',
      '--start-layer',
      '5',
    ),
    expect: /--start-layer 5 is outside 0\.\.4: stories260K has 5 layers\./,
  },
  {
    name: 'explain --layer past an encoder–decoder’s decoder layers',
    input: cli(
      'explain',
      '--model',
      marianDatesDir,
      '--text',
      'the 14th of March, 2021',
      '--target',
      'target',
      '--methods',
      'cross-attention',
      '--layer',
      '2',
    ),
    expect: /--layer 2 is outside 0\.\.1: tiny-marian-dates has 2 decoder layers\./,
  },
  {
    name: 'explain alti on a model that normalises its attention output (Gemma 2)',
    input: cli(
      'explain',
      '--model',
      hfTinyModel('gemma2'),
      '--text',
      TEXT,
      '--target',
      'next',
      '--methods',
      'alti,loo',
    ),
    expect:
      /Context mixing \(ALTI, value zeroing\) reads an attention block whose output goes straight into the residual sum; this model normalises it first .*use an attention, perturbation or gradient method\./,
  },
  {
    name: 'run --out with an NPY name',
    input: cli('run', '--model', S, '--text', TEXT, '--out', p('run.npy')),
    expect:
      /run --out writes JSON \(or one NPY per layer with --out FOLDER\/\); for NPY use `attention-lens export --out run\.npy`\./,
    check: noOutput(p('run.npy')),
  },
  {
    name: 'generate --seed past 32 bits',
    input: cli('generate', '--model', S, '--text', TEXT, '--temperature', '1', '--seed', '4294967296'),
    expect: /--seed must be a whole number from 0 to 4294967295 \(got "4294967296"\)\./,
  },
  {
    name: 'explain --head foo lists every form --head takes',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'next', '--head', 'foo'),
    code: 2,
    expect: /^attention-lens: --head must be mean, max or a head number \(got "foo"\)\.$/,
  },
  {
    name: 'export --head -1 lists every form --head takes',
    input: cli('export', '--model', p('no-model'), '--text', TEXT, '--out', 'x.png', '--head=-1'),
    code: 2,
    expect: /^attention-lens: --head must be mean, max or a head number \(got "-1"\)\.$/,
  },
  {
    name: 'generate --head past any model says mean is accepted too',
    input: cli('generate', '--model', p('no-model'), '--text', TEXT, '--head', '99999'),
    code: 2,
    expect: /^attention-lens: --head must be mean or a head number from 0 to 10000 \(got "99999"\)\.$/,
  },
  {
    name: 'generate --head max',
    input: cli('generate', '--model', S, '--text', TEXT, '--head', 'max'),
    expect: /--head must be mean or a head number \(got "max"\)\./,
  },
  {
    name: 'explain --percents with a bin twice',
    input: cli('explain', '--model', S, '--text', TEXT, '--target', 'next', '--percents', '50,10,10'),
    expect: /--percents names a bin twice \(got "50,10,10"\); give each percentage once\./,
  },
  {
    name: 'explain --generate with an encoder–decoder',
    input: cli(
      'explain',
      '--model',
      marianDatesDir,
      '--text',
      'the 14th of March, 2021',
      '--target',
      'target',
      '--generate',
      '3',
    ),
    expect:
      /tiny-marian-dates \(marian\) is an encoder–decoder model: it translates the text rather than continuing it, so --generate does not apply; leave it out/,
  },
  {
    name: 'explain --target-text with --generate',
    input: cli('explain', '--model', S, '--text', TEXT, '--target', 'next', '--target-text', 'x', '--generate', '2'),
    expect: /--target-text is for encoder–decoder models and --generate for decoder-only ones: give one of them/,
  },
  {
    name: 'explain target on a decoder-only model',
    input: cli('explain', '--model', S, '--text', TEXT, '--target', 'target:1'),
    expect:
      /The target "target:1" scores a translation's target tokens; stories260K \(llama\) is not an encoder–decoder model: use next, token:POS:ID or contrast:A\|B/,
  },
  {
    name: 'generate on an encoder–decoder model',
    input: cli('generate', '--model', marianDatesDir, '--text', 'March 14 2021'),
    expect: /tiny-marian-dates is an encoder–decoder model, which translates .*use run --translate/,
  },
  {
    name: 'explain --chat with a model that has no chat template',
    input: cli('explain', '--model', S, '--text', TEXT, '--chat', '--target', 'next'),
    expect: /stories260K has no chat template/,
  },
  {
    name: 'text longer than the positions',
    input: () => ({ args: ['run', '--model', M, '--text', LONG] }),
    expect: [/\b\d{3,4} tokens\b/, /512/, /--truncate/],
  },
  {
    name: 'unreadable --file',
    input: cli('run', '--model', S, '--file', p('none.txt')),
    expect: /Cannot read --file .*none\.txt: it does not exist/,
  },
  {
    name: '--file is a folder',
    input: () => ({ args: ['run', '--model', M, '--file', TMP] }),
    expect: /--file .*: it is a folder/,
  },
  {
    name: '--file /dev/zero',
    input: () => ({ args: ['run', '--model', M, '--file', '/dev/zero'] }),
    expect: /Cannot read --file \/dev\/zero: it is a device/,
    timeoutMs: 20_000,
  },
  {
    name: 'a --file over the input limit says the limit and how to raise it',
    input: () => ({ args: ['run', '--model', M, '--file', p('two-mb.txt')] }),
    expect:
      /larger than the input limit of 1 MB; run its beginning with --truncate, or raise the limit with --max-input-mb N/,
    timeoutMs: 20_000,
  },
  {
    name: 'a 300 MB --file with --truncate reads only its beginning',
    input: () => ({ args: ['run', '--model', M, '--file', p('huge.txt'), '--truncate'] }),
    kind: 'warning',
    code: 0,
    expect: /--truncate reads its first 1 MB/,
    check: (o) => assert.match(o.output, /tokens\s+512 \(truncated from \d+\)/),
    timeoutMs: 30_000,
  },
  {
    name: 'invalid UTF-8 in --file is read with a warning that gives the byte offset',
    input: () => ({ args: ['run', '--model', M, '--file', p('bad-utf8.txt')] }),
    kind: 'warning',
    code: 0,
    expect: /--file .*bad-utf8\.txt is not valid UTF-8 at byte 5; those bytes were read as U\+FFFD/,
  },

  // ----- data loss through --out
  {
    name: 'run --out the model’s weights',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', path.join(M, 'model.safetensors')] }),
    expect: /Cannot write --out .*model\.safetensors: it is one of the model's own files/,
    check: () => intact(path.join(M, 'model.safetensors')),
  },
  {
    name: 'run --out the model’s config.json',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', path.join(M, 'config.json')] }),
    expect: /one of the model's own files/,
    check: () => intact(path.join(M, 'config.json')),
  },
  {
    name: 'export --out the model’s weights',
    input: () => ({
      args: ['export', '--model', M, '--text', 'hi', '--format', 'json', '--out', path.join(M, 'model.safetensors')],
    }),
    expect: /one of the model's own files/,
    check: () => intact(path.join(M, 'model.safetensors')),
  },
  {
    name: 'explain --out the model’s tokenizer',
    input: () => ({
      args: ['explain', '--model', M, '--text', 'hi', '--target', 'next', '--out', path.join(M, 'tokenizer.json')],
    }),
    expect: /one of the model's own files/,
    check: () => intact(path.join(M, 'tokenizer.json')),
  },
  {
    name: '--out a symbolic link to the model’s weights',
    input: () => ({
      args: ['export', '--model', M, '--text', 'hi', '--format', 'json', '--out', path.join(M, 'weights-link.json')],
    }),
    expect: /one of the model's own files/,
    check: () => intact(path.join(M, 'model.safetensors')),
  },
  {
    name: '--out the input file',
    input: () => ({ args: ['run', '--model', M, '--file', p('text.txt'), '--out', p('text.txt')] }),
    expect: /it is the input file \(--file\)/,
    check: () => intact(p('text.txt')),
  },
  {
    name: 'a failed run keeps the old --out file (text too long)',
    input: () => ({ args: ['run', '--model', M, '--text', LONG, '--out', p('keep-1', 'old.json')] }),
    expect: /512/,
    check: () => {
      intact(p('keep-1', 'old.json'));
      assert.deepEqual(partials(p('keep-1')), []);
    },
  },
  {
    name: 'a failed load keeps the old --out file (truncated weights)',
    input: () => ({ args: ['run', '--model', model('truncated'), '--text', 'hi', '--out', p('keep-2', 'old.json')] }),
    expect: /truncated/i,
    check: () => {
      intact(p('keep-2', 'old.json'));
      assert.deepEqual(partials(p('keep-2')), []);
    },
  },
  {
    name: 'a failed run with --out a device never unlinks it',
    input: () => ({ args: ['run', '--model', M, '--text', LONG, '--out', NULL_DEVICE()] }),
    expect: /512/,
    check: () => isCharDevice(NULL_DEVICE())(),
  },
  {
    name: 'export --out a device is refused, and the device stays',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--format', 'json', '--out', DEVICE()] }),
    expect: /it is a device, which is never replaced/,
    check: () => isCharDevice(DEVICE())(),
  },
  {
    name: '--out a named pipe is refused (no hang)',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', p('fifo')] }),
    expect: /it is a named pipe \(FIFO\)/,
    timeoutMs: 20_000,
  },
  {
    name: '--file a named pipe that nothing writes to is refused (no hang)',
    input: () => ({ args: ['run', '--model', M, '--file', p('fifo')] }),
    expect:
      /Cannot read --file .*fifo: it is a named pipe that nothing is writing to; start the command that writes into it first/,
    timeoutMs: 20_000,
  },
  {
    name: 'study --data a named pipe that nothing writes to is refused (no hang)',
    input: () => ({ args: ['study', '--model', M, '--data', p('fifo'), '--target', 'next', '--methods', 'rollout'] }),
    expect: /Cannot read --data .*fifo: it is a named pipe that nothing is writing to/,
    timeoutMs: 20_000,
  },
  {
    name: 'export --out a folder',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--format', 'json', '--out', TMP] }),
    expect: /it is a folder; give a file name/,
  },
  {
    name: 'run --out FOLDER/ that is a file',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', p('text.txt') + '/'] }),
    expect: /Cannot write --out .*text\.txt\/: it is a file, and a path ending in \/ names a folder/,
  },
  {
    name: 'export --out NEWDIR/ (a path ending in /) for one file: refused, no file or folder made',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--format', 'png', '--out', p('newdir') + '/'] }),
    expect:
      /Cannot write --out .*newdir\/: a path ending in \/ names a folder, but this output is one file; give a file name without the trailing \//,
    check: noOutput(p('newdir')),
  },
  {
    name: 'generate --out FILE.json/ (a path ending in /): refused, no file made',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--max-new', '2', '--out', p('n.json') + '/'] }),
    expect: /Cannot write --out .*n\.json\/: a path ending in \/ names a folder, but this output is one file/,
    check: noOutput(p('n.json')),
  },
  {
    name: 'export --format npy of an encoder–decoder to stdout: refused, says to give a file path',
    input: cli(
      'export',
      '--model',
      marianDatesDir,
      '--text',
      'the 14th of March, 2021',
      '--format',
      'npy',
      '--out',
      '/dev/stdout',
    ),
    expect:
      /Cannot write --out \/dev\/stdout: an encoder–decoder model's NPY export is one file per kind \(encoder, decoder, cross\), which a stream cannot hold; give a file path/,
    check: (o) => assert.equal(o.output, '', 'nothing on stdout'),
  },
  {
    name: "run --out FOLDER/ that is the model's own folder",
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', M + '/'] }),
    expect: /it is the folder of one of the model's own files \(.*\); write the files into a folder of their own/,
    check: () => assert.ok(!fs.existsSync(path.join(M, 'layer-0.npy')) && !fs.existsSync(path.join(M, 'layer-00.npy'))),
  },
  {
    name: 'run --out FOLDER/ in a folder that does not exist',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', p('no', 'such') + '/'] }),
    expect: /Cannot write --out .*no\/such\/: the folder .*\/no does not exist \(ENOENT\); create it first/,
  },
  {
    name: 'run --out JSON of a run kept for long inputs',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--long', 'kept', '--out', p('out', 'kept.json')] }),
    expect:
      /A run of \d+ tokens is kept for long inputs .*; use --out FOLDER\/ \(a path ending in \/\), which streams one NPY per layer\./,
    check: noOutput(p('out', 'kept.json')),
  },
  {
    name: 'run --backend wasm --long maps past the Wasm heap: refused before the first layer, with the length it reaches',
    input: () => ({
      args: ['run', '--model', smolLm2Gguf(), '--backend', 'wasm', '--long', 'maps', '--text', TEXT.repeat(480)],
    }),
    expect:
      /On the Wasm backend a run that returns every map of \d+ tokens needs about [\d.]+ GB of its 4 GiB heap \(the model's graphs [\d.]+ (GB|MB), the running layer [\d.]+ GB\); it reaches \d+ tokens there: select at most \d+ tokens, or keep the run for long inputs \(long: auto or kept\), or use the native backend\./,
    check: (o) => assert.doesNotMatch(o.output, /^L0 /m, 'no layer ran'),
  },
  {
    name: 'run --long with an unknown mode',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--long', 'sometimes'] }),
    expect: /--long must be auto, kept or maps \(got "sometimes"\)\./,
  },
  {
    name: '--out in a folder that does not exist',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', p('no', 'such', 'x.json')] }),
    expect: /Cannot write --out .*x\.json: the folder .*no\/such does not exist \(ENOENT\)/,
  },
  {
    name: '--out below a file',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--out', path.join(p('text.txt'), 'x.png')] }),
    expect: /a part of the path is not a folder \(ENOTDIR\)/,
  },
  {
    name: 'export --out /proc/version',
    input: () => ({ args: ['export', '--model', M, '--text', 'hi', '--format', 'json', '--out', '/proc/version'] }),
    expect: /Cannot write --out \/proc\/version: the folder \/proc does not accept new files/,
  },
  {
    name: '--out a dangling symbolic link',
    input: () => ({ args: ['run', '--model', M, '--text', 'hi', '--out', p('dangling.json')] }),
    expect: /it is a symbolic link to .*nowhere\.json, which does not exist/,
  },
  {
    name: '--out inside the Hugging Face cache, with a Hub id as the model',
    input: () => ({
      args: ['run', '--model', 'owner/name', '--text', 'hi', '--out', p('hub', 'x.json')],
      env: { HF_HUB_CACHE: p('hub'), HF_HUB_OFFLINE: '1' },
    }),
    expect: /it is inside the Hugging Face cache .*, which outputs never go into/,
    check: noOutput(p('hub', 'x.json')),
  },
  {
    name: 'Ctrl-C during a Hub download: --out as it was, and only the download’s own .incomplete blob',
    input: () => ({
      args: ['run', '--model', HUB_REPO, '--text', 'hi', '--out', p('sigint-hub', 'old.json')],
      env: hubEnv('hub-sigint'),
      // The weights' blob part-way (more than 32 KB of its ~1 MB, sent at 16 KB per 100 ms): a small file's blob could
      // finish between this check and the signal on a loaded machine.
      interruptWhen: () =>
        cacheFiles('hub-sigint').some(
          (f) =>
            f.endsWith('.incomplete') &&
            (fs.statSync(p('hub-sigint', repoFolderName(HUB_REPO), f), { throwIfNoEntry: false })?.size ?? 0) >
              32 * 1024,
        ),
    }),
    code: 130,
    expect: /^attention-lens: interrupted; the unfinished output was removed, earlier files are as they were\.$/,
    check: () => {
      intact(p('sigint-hub', 'old.json'));
      assert.deepEqual(fs.readdirSync(p('sigint-hub')), ['old.json']);
      const left = cacheFiles('hub-sigint');
      assert.ok(!left.some((f) => /^(snapshots|refs)/.test(f)), `no snapshot or ref: ${left}`);
      const blobs = left.filter((f) => f.startsWith('blobs/'));
      const partial = blobs.filter((f) => f.endsWith('.incomplete'));
      assert.equal(partial.length, 1, `one .incomplete blob: ${blobs}`);
      // Every other blob is a complete, verified file of the model (named by its hash).
      const served = [...hub!.repos.get(HUB_REPO)!.files.values()].map((f) => `blobs/${f.lfs ? f.sha256 : f.gitSha1}`);
      for (const b of blobs.filter((f) => f !== 'blobs' && !f.endsWith('.incomplete')))
        assert.ok(served.includes(b), `${b} is a finished blob of the model`);
    },
  },
  {
    name: 'HF_ENDPOINT that is not a URL',
    input: () => ({
      args: ['run', '--model', HUB_REPO, '--text', 'hi'],
      env: hubEnv('hub-endpoint', 'not a url'),
    }),
    expect: /^attention-lens: The Hub endpoint "not a url" \(HF_ENDPOINT\) is not a web address/,
  },
  {
    name: 'a model page URL as --model is its Hub id',
    input: () => ({
      args: ['run', '--model', 'https://huggingface.co/lens-test/nope', '--text', 'hi'],
      env: hubEnv('hub-url'),
    }),
    expect: /^attention-lens: No model lens-test\/nope on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/,
  },
  {
    name: '--model owner/name@refs/pr/N is a Hub revision, not a path',
    input: () => ({
      args: ['run', '--model', `${HUB_REPO}@refs/pr/9`, '--text', 'hi'],
      env: hubEnv('hub-pr'),
    }),
    expect: /lens-test\/stories260K has no revision "refs\/pr\/9" \(HTTP 404\)/,
  },
  {
    name: 'Ctrl-C during run --out leaves the old file and no temporary file',
    input: () => ({
      args: ['run', '--model', M, '--text', LONG, '--truncate', '--out', p('sigint', 'old.json')],
      interruptWhen: () => partials(p('sigint')).length > 0 || fs.readFileSync(p('sigint', 'old.json'), 'utf8') !== OLD,
    }),
    code: 130,
    expect: /^attention-lens: interrupted; the unfinished output was removed, earlier files are as they were\.$/,
    check: () => {
      intact(p('sigint', 'old.json'));
      assert.deepEqual(partials(p('sigint')), []);
    },
  },

  // ----- export
  {
    name: 'export without --out',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT] }),
    expect: /Missing --out FILE/,
  },
  {
    name: 'export to an unknown extension',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--out', p('out', 'x.gif')] }),
    expect: /Cannot tell the format from --out/,
  },
  {
    name: 'export --format bmp',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--format', 'bmp', '--out', p('out', 'x.bmp')] }),
    expect: /Unknown --format "bmp"/,
  },
  {
    name: 'export --layer past the model',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--layer', '9', '--out', p('out', 'x.png')] }),
    expect: /--layer 9 does not exist: M has 5 layers \(0–4\)/,
    check: noOutput(p('out', 'x.png')),
  },
  {
    name: 'export --head past the model',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--head', '8', '--out', p('out', 'x.png')] }),
    expect: /--head 8 does not exist: M has 8 heads \(0–7\)/,
  },
  {
    name: 'export --view table',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--view', 'table', '--out', p('out', 'x.png')] }),
    expect: /Unknown --view "table"/,
  },
  {
    name: 'export --scale 9',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--scale', '9', '--out', p('out', 'x.png')] }),
    expect: /--scale must be a whole number from 1 to 4/,
  },
  {
    name: 'export --layer with a data format (csv holds every layer)',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--layer', '2', '--out', p('out', 'x.csv')] }),
    expect: /--layer applies to the png and svg views; csv holds every layer and head of the run: leave --layer out\./,
  },
  {
    name: 'export --head with npy',
    input: () => ({ args: ['export', '--model', M, '--text', TEXT, '--head', '1', '--out', p('out', 'x.npy')] }),
    expect: /--head applies to the png and svg views; npy holds every layer/,
  },

  // ----- explain and study
  {
    name: 'explain: a target the model cannot give',
    input: () => ({ args: ['explain', '--model', M, '--text', 'Once upon', '--target', 'mask'] }),
    expect: /needs a masked language model.*is causal: use next/,
  },
  {
    name: 'explain: an unknown method fails before the model loads',
    input: cli(
      'explain',
      '--model',
      p('no-model'),
      '--text',
      'hi',
      '--target',
      'next',
      '--methods',
      'rollout,gradient-magic',
    ),
    expect: /Unknown method "gradient-magic"; known: raw-attention, rollout, flow, loo/,
  },
  {
    name: 'explain --ig-baseline that is not zero or pad',
    input: cli('explain', '--model', p('no-model'), '--text', 'hi', '--target', 'next', '--ig-baseline', 'mean'),
    expect: /--ig-baseline must be zero or pad \(got "mean"\)/,
  },
  {
    name: 'explain --ig-baseline pad on a model without a pad token: refused before the run',
    input: () => ({
      args: [
        'explain',
        '--model',
        M,
        '--text',
        TEXT,
        '--target',
        'next',
        '--methods',
        'integrated-gradients',
        '--ig-baseline',
        'pad',
      ],
    }),
    code: 2,
    expect:
      /^attention-lens: M has no pad token, so Integrated Gradients has no pad embedding to start from; use --ig-baseline zero \(the zero embedding\)\.$/,
    check: (o) => assert.doesNotMatch(o.output, /integrated-gradients/, 'no method ran'),
  },
  {
    name: 'explain --ig-steps 0',
    input: cli('explain', '--model', p('no-model'), '--text', 'hi', '--target', 'next', '--ig-steps', '0'),
    expect: /--ig-steps must be a whole number from 1 to 1024/,
  },
  {
    name: 'study: lines whose targets measure different things are refused before the model loads',
    input: cli('study', '--model', S, '--data', p('mixed-measures.jsonl'), '--target', 'next', '--methods', 'rollout'),
    expect:
      /^attention-lens: The examples' targets measure different things: log-probability \(lines 1, 4\); probability \(line 2\); log p\(A\) − log p\(B\) \(line 3\)\. A study averages and compares one measure/,
  },
  {
    name: 'generate --top-p 5e-324 (a subnormal: it was printed as top-p 0, then refused after the load)',
    input: cli('generate', '--model', S, '--text', 'hi', '--temperature', '1', '--top-p', '5e-324'),
    expect:
      /^attention-lens: --top-p must be at least 1e-300 \(that already keeps only the most likely token\), got 5e-324\.$/,
  },
  {
    name: 'generate --temperature 1e-310 (read as greedy before)',
    input: cli('generate', '--model', S, '--text', 'hi', '--temperature', '1e-310', '--seed', '7'),
    expect: /^attention-lens: --temperature must be 0 \(greedy\) or at least 1e-300, got 1e-310\.$/,
  },
  {
    name: 'study goes on after a non-JSON line, and exits 2 at the end',
    input: () => ({
      args: [
        'study',
        '--model',
        M,
        '--data',
        p('not-json.jsonl'),
        '--target',
        'next',
        '--methods',
        'rollout',
        '--out',
        p('study-1'),
      ],
    }),
    expect: /1 of 3 examples were skipped \(the first: line 2: is not JSON; .*\); the outputs hold the other 2\./,
    check: (o) => {
      assert.match(o.output, /examples {3}2 explained, 1 skipped/);
      const summary = JSON.parse(fs.readFileSync(p('study-1', 'summary.json'), 'utf8'));
      assert.equal(summary.summary.examples, 2);
    },
  },
  {
    name: 'study: an empty text is skipped in the CLI’s words',
    input: () => ({
      args: ['study', '--model', M, '--data', p('empty-text.jsonl'), '--target', 'next', '--methods', 'rollout'],
    }),
    expect: /line 2: has an empty text; write some text on that line/,
  },
  {
    name: 'study: a 300 MB line is skipped without being read into memory',
    input: () => ({
      args: ['study', '--model', M, '--data', p('huge-line.jsonl'), '--target', 'next', '--methods', 'rollout'],
    }),
    expect: /line 2: is 300 MB, over the input limit of 1 MB \(raise it with --max-input-mb N\)/,
    check: (o) => assert.match(o.output, /examples {3}2 explained, 1 skipped/),
    timeoutMs: 30_000,
  },
  {
    name: 'study on an encoder–decoder: a line whose target_text is not text is skipped',
    input: () => ({
      args: [
        'study',
        '--model',
        marianDatesDir,
        '--data',
        p('dates-bad-target.jsonl'),
        '--target',
        'target:1',
        '--methods',
        'cross-attention',
      ],
    }),
    expect: /line 2: has a "target_text" that is not a non-empty string; give the translation to score/,
    check: (o) => assert.match(o.output, /examples {3}1 explained, 1 skipped/),
  },
  {
    name: 'study: a line whose "target" is not a string is skipped, not explained with --target',
    input: () => ({
      args: ['study', '--model', M, '--data', p('target-type.jsonl'), '--target', 'next', '--methods', 'rollout'],
    }),
    expect:
      /1 of 3 examples were skipped \(the first: line 2: has a "target" that is a number, not a string; write a target spec such as "next" or "token:3:42", or leave it out to use --target\)\./,
    check: (o) => assert.match(o.output, /examples {3}2 explained, 1 skipped/),
  },
  {
    name: "study --out the model's own folder: refused before the model loads, nothing written there",
    input: () => ({
      args: studyInto(M + '/'),
    }),
    expect:
      /Cannot write --out .*\/M\/: it is the folder of one of the model's own files \(.*\); write the files into a folder of their own/,
    check: (o) => {
      assert.equal(o.output, '', 'the model did not load (its facts are not printed)');
      for (const f of ['summary.md', 'summary.json', 'examples.jsonl', 'agreement-kendall.svg', 'head-sweep.svg'])
        assert.ok(!fs.existsSync(path.join(M, f)), `${f} is not in the model's folder`);
      for (const f of MODEL_FILES) intact(path.join(M, f));
    },
  },
  {
    name: "study --out the model's own folder, named without the /",
    input: () => ({
      args: studyInto(M),
    }),
    expect: /Cannot write --out .*\/M: it is the folder of one of the model's own files/,
    check: (o) => {
      assert.equal(o.output, '');
      assert.ok(!fs.existsSync(path.join(M, 'summary.json')));
    },
  },
  {
    name: 'study --reference raw-attention on a decoder-only model with only encoder–decoder methods',
    input: () => ({
      args: [
        'study',
        '--model',
        M,
        '--data',
        p('empty-text.jsonl'),
        '--target',
        'next',
        '--methods',
        'cross-attention,loo',
        '--reference',
        'raw-attention',
      ],
    }),
    expect:
      /--reference raw-attention does not run on \S+ with these methods \(cross-attention, loo\); give one of them or add it to --methods/,
  },
  {
    name: 'study --target target:each on a decoder-only model',
    input: () => ({
      args: ['study', '--model', M, '--data', p('empty-text.jsonl'), '--target', 'target:each', '--methods', 'rollout'],
    }),
    expect:
      /--target target:each explains every target token of an encoder–decoder's translation; \S+ \(llama\) is not one: give a target such as next/,
  },
  {
    name: 'study --reference an encoder–decoder method on a decoder-only model',
    input: () => ({
      args: [
        'study',
        '--model',
        M,
        '--data',
        p('empty-text.jsonl'),
        '--target',
        'next',
        '--reference',
        'cross-attention',
      ],
    }),
    expect:
      /--reference cross-attention does not run on \S+ with these methods \(raw-attention, rollout, loo, norm\); give one of them or add it to --methods/,
  },
  {
    name: 'explain --target target:each (a study target)',
    input: cli('explain', '--model', p('no-model'), '--text', 'hi', '--target', 'target:each'),
    expect: /--target target:each \(every target token in turn\) is for study; explain one with --target target:POS/,
  },
  {
    name: 'study --randomize-top beyond an encoder–decoder’s stacks',
    input: () => ({
      args: [
        'study',
        '--model',
        marianDatesDir,
        '--data',
        p('dates-bad-target.jsonl'),
        '--target',
        'target:1',
        '--randomize-top',
        '3',
      ],
    }),
    expect:
      /--randomize-top 3 is more than the model's 2 encoder and 2 decoder layers \(the top N of each are randomised\); give 1 to 2/,
  },
  {
    name: 'study: no line can be read',
    input: () => ({ args: ['study', '--model', M, '--data', p('all-bad.jsonl'), '--target', 'next'] }),
    expect: /No example in .*all-bad\.jsonl could be read; the first problem: line 1: is not JSON/,
  },
  {
    name: 'study --data /dev/zero',
    input: () => ({ args: ['study', '--model', M, '--data', '/dev/zero', '--target', 'next'] }),
    expect: /Cannot read --data \/dev\/zero: it is a device/,
    timeoutMs: 20_000,
  },
  {
    name: 'study --out a folder whose examples.jsonl is the --data file',
    input: () => ({
      args: [
        'study',
        '--model',
        M,
        '--data',
        p('study-in-place', 'examples.jsonl'),
        '--target',
        'next',
        '--out',
        p('study-in-place'),
      ],
    }),
    expect: /Cannot write --out .*examples\.jsonl: it is the input file \(--data\)/,
    check: () => intact(p('study-in-place', 'examples.jsonl')),
  },

  // ----- generate
  {
    name: 'generate --max-new 0',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--max-new', '0'] }),
    expect: /--max-new must be a whole number from 1 to 4096 \(got "0"\)/,
  },
  {
    name: 'generate --max-new beyond 4096',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--max-new', '100000'] }),
    expect: /--max-new must be a whole number from 1 to 4096 \(got "100000"\)/,
  },
  {
    name: "generate --max-new past the model's positions",
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--max-new', '4000'] }),
    expect: /The prompt has 16 tokens and 4000 more would pass the 512 positions llama takes; generate at most 496/,
  },
  {
    name: 'generate with a prompt longer than the model takes',
    input: () => ({ args: ['generate', '--model', M, '--text', LONG, '--max-new', '4'] }),
    expect: /The prompt has 1002 tokens, and llama takes 512 positions with the generated tokens; shorten the prompt/,
  },
  {
    name: "generate --truncate keeps the prompt's beginning, and says so",
    input: () => ({ args: ['generate', '--model', M, '--text', LONG, '--max-new', '4', '--truncate'] }),
    kind: 'warning',
    code: 0,
    expect: /--truncate keeps the first 508 of the prompt's 1002 tokens \(room for --max-new 4\)/,
    check: (o) => assert.match(o.output, /^prompt {5}508 tokens$/m),
  },
  {
    name: 'generate --temperature below 0',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--temperature=-1'] }),
    expect: /--temperature must be 0 or more \(0 is greedy\), got -1/,
  },
  {
    name: 'generate --temperature not a number',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--temperature', 'hot'] }),
    expect: /--temperature must be a number \(got "hot"\)/,
  },
  {
    name: 'generate --top-p 0',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--temperature', '1', '--top-p', '0'] }),
    expect: /--top-p must be above 0 and at most 1 \(1 keeps every token\), got 0/,
  },
  {
    name: 'generate --top-p above 1',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--temperature', '1', '--top-p', '1.5'] }),
    expect: /--top-p must be above 0 and at most 1 \(1 keeps every token\), got 1\.5/,
  },
  {
    name: 'generate --seed without --temperature',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--seed', '7'] }),
    expect: /--top-p and --seed apply to sampling: give --temperature above 0/,
  },
  {
    name: 'generate --chat with a model that has no chat template',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--chat'] }),
    expect: [/has no chat template/, /without --chat/],
  },
  {
    name: 'generate --chat --truncate',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--chat', '--truncate'] }),
    expect: /--truncate would cut the end of the chat template/,
  },
  {
    name: 'explain --generate with an ONNX export',
    input: () => ({
      args: ['explain', '--model', model('onnx-export'), '--text', TEXT, '--generate', '2', '--target', 'generated:1'],
    }),
    expect: /is an ONNX export, which cannot generate with a KV cache here/,
  },
  {
    name: 'generate with an encoder (not a causal LM)',
    input: () => ({ args: ['generate', '--model', model('encoder'), '--text', TEXT] }),
    expect: /is an encoder, not a causal language model, so it cannot generate text/,
  },
  {
    name: 'generate with an ONNX export',
    input: () => ({ args: ['generate', '--model', model('onnx-export'), '--text', TEXT] }),
    expect: /is an ONNX export, which cannot generate with a KV cache here/,
  },
  {
    name: 'generate --out with no known extension',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--out', p('out', 'gen.txt')] }),
    expect: /Cannot tell the format from --out .*gen\.txt.*: end it in \.json, \.csv or \.npy/,
    check: noOutput(p('out', 'gen.txt')),
  },
  {
    name: 'generate --layer beyond the model',
    input: () => ({ args: ['generate', '--model', M, '--text', TEXT, '--layer', '9'] }),
    expect: /--layer 9 does not exist: the model has 5 layers \(0–4\)/,
  },
  // ----- explain at length (a run kept for long inputs; --long kept forces it on a short text): each method that
  // does not run says its cost there and what to do, as a warning, and the explanation goes on with the rest.
  ...(
    [
      [
        'loo',
        /Leave-one-out does not run on \d+ tokens kept for long inputs: it runs the model once per candidate token: \d+ passes over \d+ tokens \(about \d+ (s|min) at [\d.]+ s a pass\); run with the maps \(--long auto or maps\) for it\./,
      ],
      [
        'occlusion',
        /Occlusion does not run on \d+ tokens kept .*: it runs the model once per window of candidate tokens: \d+ passes/,
      ],
      [
        'flow',
        /Attention flow does not run .*max-flow over \d+ nodes .*; run with the maps \(--long auto or maps\) for it\./,
      ],
      [
        'saliency',
        /Saliency ‖∇‖ does not run .*: it backpropagates through every layer's maps: 1 pass over \d+ tokens \(\d+ MB, about \d+ s at [\d.]+ s a pass\)/,
      ],
      ['integrated-gradients', /Integrated Gradients does not run .*at each point of the path: 33 passes over/],
      [
        'alti',
        /ALTI does not run .*: it holds every layer's maps and per-head value vectors and does [\d,.]+ (G |T )?multiply-adds \(\d+ MB\)/,
      ],
      [
        'norm-rollout',
        /does not run .*: it holds every layer's maps and value norms \(\d+ MB\); run with the maps \(--long auto or maps\) for it/,
      ],
      [
        'value-zeroing-rollout',
        /Value zeroing rollout does not run .*: it runs the model once per layer and token with its values zeroed: \d+ passes over/,
      ],
    ] as const
  ).map(([method, line]): BadInputCase<CliInput> => ({
    name: `explain ${method} on a run kept for long inputs: its cost and what to do`,
    input: () => ({
      args: [
        'explain',
        '--model',
        M,
        '--text',
        TEXT,
        '--target',
        'next',
        '--long',
        'kept',
        '--methods',
        `raw-attention,${method}`,
      ],
    }),
    kind: 'warning',
    code: 0,
    expect: line,
    check: (o) => assert.match(o.output, /^kept {7}\d+ tokens kept for long inputs/m),
  })),
  {
    name: 'explain a similarity target on a run kept for long inputs: refused before the run',
    input: () => ({
      args: ['explain', '--model', M, '--text', TEXT, '--target', 'similarity:a dog', '--long', 'kept'],
    }),
    expect:
      /The target similarity:a dog reads every token; on a run of \d+ tokens kept for long inputs Explain needs one target token \(next, token:POS, mask@POS\), or select at most 2590 tokens\./,
    check: (o) => assert.doesNotMatch(o.output, /^kept /m, 'no run'),
  },
  {
    name: 'explain --long with an unknown mode',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--target', 'next', '--long', 'kep'] }),
    expect: /--long must be auto, kept or maps \(got "kep"\)\./,
  },
  {
    name: 'explain --target generated:N without --generate',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--target', 'generated:2'] }),
    expect: /--target generated:2 names a generated token: add --generate N \(N ≥ 2\)/,
  },
  {
    name: 'explain --target generated:N past --generate',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--generate', '2', '--target', 'generated:5'] }),
    expect: /--target generated:5 is past the 2 tokens --generate asks for/,
  },
  {
    name: 'study --reference not among the methods',
    input: cli(
      'study',
      '--model',
      p('no-model'),
      '--data',
      'x.jsonl',
      '--target',
      'next',
      '--methods',
      'rollout',
      '--reference',
      'loo',
    ),
    expect: /--reference loo is not among the methods \(rollout\); add it to --methods/,
  },
  {
    name: 'study --randomize-top beyond the model’s layers',
    input: () => ({
      args: [
        'study',
        '--model',
        M,
        '--data',
        p('study-in-place', 'examples.jsonl'),
        '--target',
        'next',
        '--methods',
        'rollout',
        '--randomize-top',
        '9',
      ],
    }),
    expect: /--randomize-top 9 is more than the model's 5 layers; give 1 to 5/,
  },
  {
    name: 'study --randomize-top 0',
    input: cli('study', '--model', p('no-model'), '--data', 'x.jsonl', '--target', 'next', '--randomize-top', '0'),
    expect: /--randomize-top/,
  },
  {
    name: 'study --reference unknown',
    input: cli('study', '--model', p('no-model'), '--data', 'x.jsonl', '--target', 'next', '--reference', 'oracle'),
    expect: /Unknown method "oracle"/,
  },
  {
    name: 'explain --words mean',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'next', '--words', 'mean'),
    expect: /--words must be sum or max \(got "mean"\)/,
  },
  {
    name: 'explain --target contrast without B',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast: the'),
    expect: /Bad target "contrast: the": write contrast:A\|B/,
  },
  {
    name: 'explain --target contrast with a position that is not one (@-1)',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:a|b@-1'),
    code: 2,
    expect:
      /^attention-lens: Bad target "contrast:a\|b@-1": "@-1" is not a position: write @POS \(a whole number from 1\), @generated:N or @target:POS after B, or #ID for a token written with "@"\./,
  },
  {
    name: 'explain --target contrast with an @ and no position',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:a|b@'),
    code: 2,
    expect: /^attention-lens: Bad target "contrast:a\|b@": "@" is not a position: write @POS/,
  },
  {
    name: 'explain --target contrast@1e309',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:a|b@1e309'),
    code: 2,
    expect: /^attention-lens: Bad target "contrast:a\|b@1e309": "@1e309" is not a position/,
  },
  {
    name: 'explain --target contrast with an id past 2^53 quotes the id as written',
    input: () => ({
      args: ['explain', '--model', M, '--text', TEXT, '--target', 'contrast:#99999999999999999999|b'],
    }),
    code: 2,
    expect:
      /^attention-lens: Token id 99999999999999999999 in "contrast:#99999999999999999999\|b" is outside the vocabulary of 512 \(0\.\.511\)\.$/,
  },
  {
    name: 'explain --target prob: with nothing after it quotes the whole target',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'prob:'),
    code: 2,
    expect:
      /^attention-lens: Bad target "prob:": give the target after "prob:" \(next, next:TOKEN, token:POS:ID or generated:N\)\./,
  },
  {
    name: 'explain --target contrast with two "|"',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:a|b|c'),
    expect: /write exactly one "\|" between A and B \(write #ID for a token that contains "\|"\)/,
  },
  {
    name: 'explain --target contrast with an empty token',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:|b'),
    expect: /give both tokens, A before "\|" and B after it/,
  },
  {
    name: 'explain --target contrast of a token with itself',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:#5|#5'),
    expect: /A and B are the same token/,
  },
  {
    name: 'explain --target contrast:A|B@generated:N without --generate',
    input: cli('explain', '--model', p('no-model'), '--text', TEXT, '--target', 'contrast:#5|#6@generated:2'),
    expect: /names a generated token: add --generate N \(N ≥ 2\)/,
  },
  {
    name: 'explain --target contrast with an id outside the vocabulary',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--target', 'contrast:#5|#99999'] }),
    expect: /Token id 99999 in "contrast:#5\|#99999" is outside the vocabulary of \d+/,
  },
  {
    name: 'explain --target contrast with a text of several tokens',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--target', 'contrast:#5| once upon a time'] }),
    expect: /" once upon a time" is \d+ tokens .*not one; give one vocabulary token/,
  },
  {
    name: 'explain --target contrast:A|B@POS past the text',
    input: () => ({ args: ['explain', '--model', M, '--text', TEXT, '--target', 'contrast:#5|#6@999'] }),
    expect: /contrast:#5\|#6@999 is past the \d+ tokens of the input/,
  },
  {
    name: 'explain --generate with an encoder',
    input: () => ({
      args: ['explain', '--model', model('encoder'), '--text', TEXT, '--generate', '2', '--target', 'generated:1'],
    }),
    expect: /is an encoder, not a causal language model, so it cannot generate text/,
  },
];

catalogue('CLI', cases, runCli, { concurrency: 3 });
