// The extension's bad-input catalogue, inside the real VS Code (mocha in the extension host): every bad input a user
// can give the extension — selections with nothing to run or too much, a model setting that names nothing, a file, a
// folder without a model, an unsupported or broken model (a NaN weight, attention that overflows), a Hub id the Hub
// does not have (a local Hub, test/helpers/hub-server.ts), a Hub endpoint that is not a URL, an export over the
// model's own file or in an unknown format, a saved run that is not one (Open Saved Run…: not JSON, another format or
// version, an .npy, a non-finite or out-of-range weight, a wrong shape, a token without text, a folder, no file;
// files dropped onto the panel: an .npy or its sidecar alone, a pair that disagrees; an mBART language code the
// model lacks). Each must give exactly one notification line (counted through the test
// API's messages()), never a stack trace, and leave no progress notification open. The table format and its check
// are the CLI's and the Hub's (test/helpers/bad-input-check.ts); the count is printed at the end of the suite.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { checkOutcome, inputOf, Tally, type BadInputCase, type Outcome } from '../../helpers/bad-input-check';
import { repoFromFolder, startHubServer, type HubServer } from '../../helpers/hub-server';
import { overflowAttention, putNaNWeight } from '../../helpers/broken-models';
import { closeAllEditors, editorWith, ensureModelSetting, fire, getApi, lastRunId, sleep, withTimeout } from './util';

const TEXT = 'Once upon a time, there was a little girl named Lily.';
const MODEL_FILES = ['config.json', 'model.safetensors', 'tokenizer.json', 'tokenizer_config.json'];

interface ExtensionInput {
  /** attentionLens.modelPath for the case (default: the test model, stories260K). */
  model?: string;
  /** attentionLens.hubEndpoint for the case (default: the local Hub). */
  hubEndpoint?: string;
  /** The editor's text, and the selection as offsets into it (default: all of it). */
  text?: string;
  select?: [number, number];
  /** The command run on the selection (default attentionLens.showAttention), with these arguments. */
  command?: string;
  args?: unknown[];
  /** Another action than Show Attention on the selection; resolves with the message it answered, if any. */
  action?: () => Promise<string | undefined>;
  /** Other attentionLens settings for the case (user settings; reset after it). */
  settings?: Record<string, unknown>;
}

let tmp = '';
let model = '';
let hub: HubServer | undefined;
const at = (...p: string[]) => path.join(tmp, ...p);

/** A copy of the test model in the temporary folder, changed by `change`. */
function copyModel(name: string, change: (dir: string) => void = () => undefined): string {
  const dir = at(name);
  fs.mkdirSync(dir, { recursive: true });
  for (const f of MODEL_FILES) fs.copyFileSync(path.join(model, f), path.join(dir, f));
  change(dir);
  return dir;
}

const config = () => vscode.workspace.getConfiguration('attentionLens');

/** Makes `modelPath` the model with nothing loaded, so that no preload of the old or new model speaks during a case. */
async function useModel(api: Awaited<ReturnType<typeof getApi>>, modelPath: string): Promise<void> {
  if (config().get<string>('modelPath') === modelPath && !api.backend?.()) return;
  await config().update('modelPath', '', vscode.ConfigurationTarget.Global);
  for (let i = 0; i < 200 && (api.backend?.() || api.loading?.()); i++) await sleep(50);
  await config().update('modelPath', modelPath, vscode.ConfigurationTarget.Global);
  await sleep(100);
}

/** The test model's run of TEXT, then `then` (a case's action after a successful run). */
async function afterRun(then: () => Thenable<unknown>): Promise<string | undefined> {
  const api = await getApi();
  const before = lastRunId(api);
  fire('attentionLens.showAttention');
  const run = await withTimeout('the run', 60_000, api.waitForRun(before));
  assert.equal(run.state, 'done', `the run before the action: ${run.message}`);
  const outcome = (await then()) as { ok?: boolean; message?: string } | undefined;
  return outcome && outcome.ok === false ? outcome.message : undefined;
}

async function runCase(input: ExtensionInput): Promise<Outcome> {
  const api = await getApi();
  await useModel(api, input.model ?? model);
  if (input.hubEndpoint !== undefined)
    await config().update('hubEndpoint', input.hubEndpoint, vscode.ConfigurationTarget.Global);
  for (const [key, value] of Object.entries(input.settings ?? {}))
    await config().update(key, value, vscode.ConfigurationTarget.Global);
  try {
    const text = input.text ?? TEXT;
    const [start, end] = input.select ?? [0, text.length];
    await editorWith(text, start, end);
    const shown = api.messages!().length;
    const answered: string[] = [];
    let code: number | null = 0;
    if (input.action) {
      const message = await input.action();
      if (message !== undefined) answered.push(message);
    } else {
      const before = lastRunId(api);
      fire(input.command ?? 'attentionLens.showAttention', ...(input.args ?? []));
      const run = await withTimeout(input.command ?? 'Show Attention', 60_000, api.waitForRun(before));
      code = run.state === 'error' ? 2 : 0;
    }
    // No progress left open: the load's notification closes with its failure.
    for (let i = 0; i < 100 && api.loading!(); i++) await sleep(50);
    const errors = [...api.messages!().slice(shown), ...answered];
    if (api.loading!()) errors.push('(a model is still loading: its progress notification stays open)');
    return { code, errors, warnings: [], output: '', raw: errors.join('\n') };
  } finally {
    if (input.hubEndpoint !== undefined)
      await config().update('hubEndpoint', hub?.url, vscode.ConfigurationTarget.Global);
    for (const key of Object.keys(input.settings ?? {}))
      await config().update(key, undefined, vscode.ConfigurationTarget.Global);
  }
}

/** hf-tiny/mbart's weights beside transformers' own MBart50Tokenizer: a model with language codes. */
function mbart50(): string {
  const dir = at('mbart50');
  if (fs.existsSync(dir)) return dir;
  const fixtures = path.dirname(path.dirname(model));
  fs.mkdirSync(dir, { recursive: true });
  for (const f of ['config.json', 'generation_config.json', 'model.safetensors'])
    fs.copyFileSync(path.join(fixtures, 'models', 'hf-tiny', 'mbart', f), path.join(dir, f));
  for (const f of ['tokenizer.json', 'tokenizer_config.json'])
    fs.copyFileSync(path.join(fixtures, 'tokenizers', 'mbart', 'mbart-50', f), path.join(dir, f));
  return dir;
}

const LONG = 'Once upon a time. '.repeat(200);

const cases: BadInputCase<ExtensionInput>[] = [
  // ----- the selection
  {
    name: 'an empty document (nothing selected, an empty line)',
    input: { text: '', select: [0, 0] },
    expect: /^Nothing to show: select some text \(or put the cursor on a non-empty line\)\.$/,
  },
  {
    name: 'the cursor on a whitespace-only line',
    input: { text: 'Once upon a time\n    \t  \nthe end\n', select: [19, 19] },
    expect: /^Nothing to show: the selection contains only whitespace\.$/,
  },
  {
    name: 'Show Attention as Chat Prompt with a model that has no chat template',
    input: { command: 'attentionLens.showAttentionAsChat' },
    expect:
      /^\S+ has no chat template \(tokenizer_config\.json chat_template, chat_template\.jinja or GGUF tokenizer\.chat_template\): run the text as it is/,
  },
  // ----- a given target (Show Attention with Target…; the test API passes the text the input box would ask for)
  {
    name: 'Show Attention with Target… with a model that is not an encoder–decoder',
    input: { command: 'attentionLens.showAttentionWithTarget', args: [{ target: 'Es war einmal' }] },
    expect:
      /^stories260K \(llama\) is not an encoder–decoder model, so it takes no target text; use a translation model such as marian, bart or t5, or leave the target out\.$/,
  },
  {
    name: 'Show Attention with Target… with an empty target',
    input: { command: 'attentionLens.showAttentionWithTarget', args: [{ target: '   ' }] },
    expect: /^The target text is empty: type the translation to score, or use Show Attention to translate\.$/,
  },
  {
    name: 'Show Attention with Target… with a target longer than the model’s positions',
    input: () => ({
      model: path.join(path.dirname(model), 'tiny-marian-dates'),
      text: 'the 14th of March, 2021',
      command: 'attentionLens.showAttentionWithTarget',
      args: [{ target: '2021-03-14 '.repeat(40) }],
    }),
    expect: /^The target is \d+ tokens long; tiny-marian-dates takes at most 64\. Shorten it\.$/,
  },
  {
    name: 'attentionLens.targetLanguage naming a code the mBART-50 tokenizer does not have',
    input: () => ({ model: mbart50(), text: 'Hello world', settings: { targetLanguage: 'fr_FR' } }),
    expect:
      /^"fr_FR" is not one of this model's 52 language codes \(ar_AR, cs_CZ, de_DE, en_XX, es_XX, et_EE, fi_FI, fr_XX, …\); give one of them, as in tokenizer_config\.json\.$/,
  },
  {
    name: 'a selection longer than the token limit offers to truncate',
    input: { text: LONG },
    expect: /^The selection is \d{3,4} tokens long; the limit is 512 .*truncate it to the first 512 tokens\.$/,
  },

  // ----- the model
  {
    name: 'a model folder that does not exist',
    input: () => ({ model: at('no-such-model') }),
    expect: /^The model folder .*no-such-model does not exist; give a folder with config\.json/,
  },
  {
    name: 'a model path that is a file',
    input: () => ({ model: path.join(model, 'config.json') }),
    expect: /config\.json is not a folder nor an \.onnx or \.gguf file/,
  },
  {
    name: 'a folder without config.json',
    input: () => ({ model: at('empty') }),
    expect: /config\.json/,
  },
  {
    name: 'an unsupported model_type',
    input: () => ({ model: at('xlnet') }),
    expect: [/xlnet/, /llama/],
  },
  {
    name: 'a weight that holds NaN is named at load',
    input: () => ({ model: at('nan-weight') }),
    expect: /^Weight model\.layers\.2\.mlp\.up_proj\.weight holds NaN \(value 5 of/,
  },
  {
    name: 'attention that overflows to NaN stops at the first layer and head',
    input: () => ({ model: at('overflow') }),
    expect: /^Layer 1, head 0 gave NaN attention \(query 0, key 0\)/,
  },
  {
    name: 'an Ollama model that is not there',
    input: { model: 'ollama:no-such-model' },
    expect: /no-such-model/,
  },

  // ----- the Hub
  {
    name: 'a Hub id the Hub does not have',
    input: { model: 'lens-test/nope' },
    expect: /no model lens-test\/nope on http:\/\/127\.0\.0\.1:\d+ \(HTTP 404\)/,
  },
  {
    name: 'a Hub endpoint setting that is not a URL',
    input: { model: 'lens-test/stories260K', hubEndpoint: 'not a url' },
    expect:
      /^The Hub endpoint "not a url" \(the attentionLens\.hubEndpoint setting\) is not a web address: set it to the Hub's address/,
  },

  // ----- export
  {
    name: "an export over the model's own file is refused, and the file stays",
    input: () => ({
      model: at('export-model'),
      action: () =>
        afterRun(() =>
          vscode.commands.executeCommand('attentionLens.export', {
            format: 'json',
            target: path.join(at('export-model'), 'config.json'),
          }),
        ),
    }),
    expect: /^Cannot write .*export-model\/config\.json: it is one of the model's own files .*nothing was written\.$/,
    check: () =>
      assert.deepEqual(
        fs.readFileSync(at('export-model', 'config.json')),
        fs.readFileSync(path.join(model, 'config.json')),
        'config.json is unchanged',
      ),
  },
  {
    name: 'an export in an unknown format',
    input: () => ({
      action: () =>
        afterRun(() => vscode.commands.executeCommand('attentionLens.export', { format: 'bmp', target: at('x.bmp') })),
    }),
    expect: /^Unknown export format "bmp": use png, svg, json, csv or npy\.$/,
  },

  // ----- Open Saved Run
  ...savedRunCases(),
];

/** A saved run of two tokens, one layer, one head (the JSON Export… → JSON writes), changed by `change`. */
function savedRun(change: (run: Record<string, unknown>) => void = () => undefined): string {
  const run: Record<string, unknown> = {
    format: 'attention-lens-run',
    version: 1,
    model: { name: 'm', layers: 1, heads: 1, headDim: 4, attentionKinds: ['causal'] },
    tokens: [
      { index: 0, text: '<s>', start: null, end: null, special: true },
      { index: 1, text: 'Hi', start: 0, end: 2, special: false },
    ],
    layers: [
      {
        layer: 0,
        kind: 'causal',
        heads: 1,
        queryLength: 2,
        keyLength: 2,
        attention: [
          [
            [1, 0],
            [0.25, 0.75],
          ],
        ],
      },
    ],
  };
  change(run);
  return JSON.stringify(run);
}

function openCase(
  name: string,
  file: string,
  content: string | Uint8Array | undefined,
  expect: RegExp,
): BadInputCase<ExtensionInput> {
  return {
    name: `Open Saved Run: ${name}`,
    input: () => {
      if (typeof content === 'string' || content instanceof Uint8Array) fs.writeFileSync(at(file), content);
      else if (content === undefined && file.endsWith('/')) fs.mkdirSync(at(file), { recursive: true });
      return {
        action: async () => {
          await vscode.commands.executeCommand('attentionLens.openSavedRun', at(file));
          return undefined;
        },
      };
    },
    expect,
  };
}

/** An NPY 1.0 file written by hand (the format's spec: magic, version, header length, dict padded to 64 bytes). */
function npyBytes(shape: string, values: number[], descr = '<f4'): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  while ((10 + dict.length + 1) % 64) dict += ' ';
  dict += '\n';
  const data = descr === '<f8' ? new Float64Array(values) : new Float32Array(values);
  const out = new Uint8Array(10 + dict.length + data.byteLength);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, dict.length & 0xff, dict.length >> 8]);
  for (let i = 0; i < dict.length; i++) out[10 + i] = dict.charCodeAt(i);
  out.set(new Uint8Array(data.buffer), 10 + dict.length);
  return out;
}

/** The sidecar of a two-token, one-layer, one-head NPY export. */
function npySidecarText(file = 'run.npy'): string {
  return JSON.stringify({
    format: 'attention-lens-npy-sidecar',
    version: 1,
    array: { file, dtype: '<f4', shape: [1, 1, 2, 2], axes: ['layer', 'head', 'query', 'key'] },
    model: { name: 'm', layers: 1, heads: 1, headDim: 4, attentionKinds: ['causal'] },
    tokens: [
      { index: 0, text: '<s>', start: null, end: null, special: true },
      { index: 1, text: 'Hi', start: 0, end: 2, special: false },
    ],
    layers: [{ layer: 0, kind: 'causal', heads: 1, queryLength: 2, keyLength: 2 }],
  });
}

/** An .npy and its sidecar written side by side, then `open` (either of them) opened. */
function pairCase(
  name: string,
  npy: string,
  array: Uint8Array,
  sidecar: string,
  open: string,
  expect: RegExp,
): BadInputCase<ExtensionInput> {
  return {
    name: `Open Saved Run: ${name}`,
    input: () => {
      fs.writeFileSync(at(npy), array);
      fs.writeFileSync(at(`${npy}.json`), sidecar.replace('"run.npy"', JSON.stringify(npy)));
      return {
        action: async () => {
          await vscode.commands.executeCommand('attentionLens.openSavedRun', at(open));
          return undefined;
        },
      };
    },
    expect,
  };
}

/** Files dropped onto the panel without a URI (as a file manager's drop gives them), as the webview sends them. */
function dropCase(
  name: string,
  dropped: { text?: string; name?: string; npy?: ArrayBuffer; npyName?: string },
  expect: RegExp,
): BadInputCase<ExtensionInput> {
  return {
    name: `A drop onto the panel: ${name}`,
    input: {
      action: async () => {
        await (
          await getApi()
        ).openDropped!(dropped);
        return undefined;
      },
    },
    expect,
  };
}

function savedRunCases(): BadInputCase<ExtensionInput>[] {
  const layer0 = (r: Record<string, unknown>) => (r.layers as Record<string, unknown>[])[0];
  return [
    openCase(
      'a file that is not JSON',
      'notes.json',
      'layer 0: strong diagonal',
      /^notes\.json: not JSON \(.*\)\. Open a run that Attention Lens exported as JSON/,
    ),
    openCase(
      'JSON that is not a run',
      'package.json',
      '{"name": "x"}',
      /^package\.json: not an Attention Lens run \(no "format": "attention-lens-run"\)/,
    ),
    openCase(
      'a newer format version',
      'v2.json',
      savedRun((r) => (r.version = 2)),
      /^v2\.json: version 2 of the run format; this Attention Lens reads version 1\.$/,
    ),
    openCase(
      'an .npy export without its sidecar',
      'run.npy',
      npyBytes('(1, 1, 2, 2)', [1, 0, 0.25, 0.75]),
      /^run\.npy has no sidecar run\.npy\.json beside it \(the tokens and layout an \.npy cannot hold\): put the two files together, or open a run exported as JSON\.$/,
    ),
    pairCase(
      'an .npy whose shape is not what its sidecar says',
      'shape.npy',
      npyBytes('(1, 1, 2, 3)', [1, 0, 0, 0.25, 0.75, 0]),
      npySidecarText(),
      'shape.npy',
      /^shape\.npy: has the shape \(1, 1, 2, 3\), but its sidecar says \(1, 1, 2, 2\) \[layers, heads, query, key\]\.$/,
    ),
    pairCase(
      'an .npy of float64',
      'f8.npy',
      npyBytes('(1, 1, 2, 2)', [1, 0, 0.25, 0.75], '<f8'),
      npySidecarText(),
      'f8.npy',
      /^f8\.npy: holds <f8; an Attention Lens NPY is little-endian float32 \(<f4\) in C order\.$/,
    ),
    pairCase(
      'an .npy with a weight outside 0..1',
      'big.npy',
      npyBytes('(1, 1, 2, 2)', [1, 0, 3, 0.75]),
      npySidecarText(),
      'big.npy.json',
      /^big\.npy: layer 0, head 0, query 1, key 0 is 3, outside 0\.\.1: not an attention weight\.$/,
    ),
    openCase(
      'a sidecar without its .npy',
      'lone.npy.json',
      npySidecarText('lone.npy'),
      /^lone\.npy\.json is the sidecar of lone\.npy, which is not beside it: put the two files together\.$/,
    ),
    openCase(
      'a binary file',
      'image.json',
      new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0xff, 0xfe, 0xfd]),
      /^image\.json is not UTF-8 text: open a run exported as JSON, or an \.npy with its sidecar \(\.npy\.json\) beside it\.$/,
    ),
    openCase(
      'a non-finite weight (written as null)',
      'nan.json',
      savedRun((r) => ((layer0(r).attention as unknown[][][])[0][1][0] = null)),
      /^nan\.json: layer 0, head 0, query 1, key 0 is null, not a finite weight\.$/,
    ),
    openCase(
      'a weight outside 0..1',
      'big.json',
      savedRun((r) => ((layer0(r).attention as unknown[][][])[0][1][1] = 7)),
      /^big\.json: layer 0, head 0, query 1, key 1 is 7, outside 0\.\.1: not an attention weight\.$/,
    ),
    openCase(
      'a layer of the wrong shape',
      'shape.json',
      savedRun((r) => (layer0(r).queryLength = 3)),
      /^shape\.json: layer 0 must have 1 heads and query and key lengths of at most 2 tokens\.$/,
    ),
    openCase(
      'a token without text',
      'token.json',
      savedRun((r) => delete (r.tokens as Record<string, unknown>[])[1].text),
      /^token\.json: token 1 must have text \(a string\)/,
    ),
    openCase(
      'a folder',
      'folder.json/',
      undefined,
      /^folder\.json is a folder: open a run exported as JSON, or an \.npy with its sidecar\.$/,
    ),
    openCase('a file that does not exist', 'missing.json', undefined, /^missing\.json cannot be read \(FileNotFound\)/),
    dropCase(
      'an .npy without its sidecar',
      { npy: npyBytes('(1, 1, 2, 2)', [1, 0, 0.5, 0.5]).slice().buffer, npyName: 'run.npy' },
      /^run\.npy was dropped without its sidecar run\.npy\.json \(.*\): drop the two files together\.$/,
    ),
    dropCase(
      'a sidecar without its .npy',
      { text: npySidecarText(), name: 'run.npy.json' },
      /^run\.npy\.json is the sidecar of run\.npy, which was not dropped with it: drop the two files together\.$/,
    ),
    dropCase(
      'an .npy with a sidecar of another shape',
      {
        npy: npyBytes('(1, 1, 3, 3)', Array(9).fill(1 / 3)).slice().buffer,
        npyName: 'run.npy',
        text: npySidecarText(),
        name: 'run.npy.json',
      },
      /^run\.npy: has the shape \(1, 1, 3, 3\), but its sidecar says \(1, 1, 2, 2\) \[layers, heads, query, key\]\.$/,
    ),
  ];
}

suite('Attention Lens: bad-input catalogue (extension)', () => {
  const tally = new Tally('extension', cases.length);

  suiteSetup(async () => {
    model = await ensureModelSetting();
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'al-bad-input-'));
    fs.mkdirSync(at('empty'));
    copyModel('xlnet', (d) => fs.writeFileSync(path.join(d, 'config.json'), JSON.stringify({ model_type: 'xlnet' })));
    copyModel('nan-weight', putNaNWeight);
    copyModel('overflow', overflowAttention);
    copyModel('export-model');
    hub = await startHubServer({ 'lens-test/stories260K': repoFromFolder('lens-test/stories260K', model) });
    await config().update('hubEndpoint', hub.url, vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    console.log(tally.line());
    await config().update('hubEndpoint', undefined, vscode.ConfigurationTarget.Global);
    const api = await getApi();
    await useModel(api, model);
    await hub?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  teardown(closeAllEditors);

  for (const c of cases)
    test(c.name, async function () {
      this.timeout(c.timeoutMs ?? 60_000);
      await checkOutcome(c, await runCase(inputOf(c)));
      tally.passed();
    });
});
