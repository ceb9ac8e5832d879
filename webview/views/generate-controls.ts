// The panel's Continue bar, under the toolbar once a run of a causal LM has finished: how many tokens (default 32),
// greedy or sampled (temperature, top-p, and a seed — blank draws one, which is shown and filled in afterwards so
// that the run can be repeated), Continue and Stop; the generated text (as text, never markup) with Insert into
// editor and Copy (the host decodes the text from the run's ids and does both); and, when the selected token is a
// generated one, "Why this token?", which explains generated:N in the Explain view. Each generated token grows the
// run in the store (store.appendToken) and every view redraws.
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import { el } from '../dom';
import { button, select, setOptions } from '../controls';
import { DEFAULT_CONTINUE_TOKENS } from '../../protocol/messages';
import { continueRequest, pieceText } from './continue-request';
import { saveState } from '../vscode-api';
import type { ViewContext } from './context';

function field(id: string, label: string, value: string, placeholder = ''): VscodeTextfield {
  const t = el('vscode-textfield', { id, attrs: { 'aria-label': label } });
  t.value = value;
  t.placeholder = placeholder;
  return t;
}

export class GenerateControls {
  readonly count = field('generate-count', 'Tokens to generate', String(DEFAULT_CONTINUE_TOKENS));
  readonly decoding = select('generate-decoding', 'Decoding');
  readonly temperature = field('generate-temperature', 'Temperature', '0.8');
  readonly topP = field('generate-top-p', 'Top-p', '0.95');
  readonly seed = field('generate-seed', 'Seed', '', 'random');
  readonly continueButton = button('generate-continue', 'Continue', {
    title: 'The model writes the next tokens; each appears in every view as it is computed',
  });
  readonly stopButton = button('generate-stop', 'Stop', { secondary: true });
  readonly status = el('span', { id: 'generate-status', attrs: { role: 'status', 'aria-live': 'polite' } });
  readonly output = el('div', {
    id: 'generate-output',
    class: 'generate-output',
    attrs: { 'aria-label': 'Generated text' },
  });
  readonly insertButton = button('generate-insert', 'Insert into editor', {
    secondary: true,
    title: 'Insert the generated text after the analysed text',
  });
  readonly copyButton = button('generate-copy', 'Copy', { secondary: true });
  readonly whyButton = button('generate-why', 'Why this token?', {
    secondary: true,
    title: 'Explain the selected generated token (generated:N) in the Explain view',
  });
  private readonly samplingFields = el(
    'span',
    { class: 'generate-sampling' },
    el('label', { class: 'control', text: 'Temperature ' }, this.temperature),
    el('label', { class: 'control', text: 'Top-p ' }, this.topP),
    el('label', { class: 'control', text: 'Seed ' }, this.seed),
  );
  readonly root = el(
    'div',
    { id: 'generate-bar', class: 'generate-bar' },
    el('label', { class: 'control', text: 'Tokens ' }, this.count),
    el('label', { class: 'control', text: 'Decoding ' }, this.decoding),
    this.samplingFields,
    this.continueButton,
    this.stopButton,
    this.status,
    this.whyButton,
  );
  readonly outputRow = el('div', { class: 'generate-output-row' }, this.output, this.insertButton, this.copyButton);
  private running = false;

  constructor(
    private readonly ctx: ViewContext,
    /** The run grew by a token: the views redraw. */
    private readonly grew: () => void,
    /** Explain generated:N (switches to the Explain view). */
    private readonly explainGenerated: (n: number) => void,
  ) {
    setOptions(
      this.decoding,
      [
        { value: 'greedy', label: 'greedy' },
        { value: 'sample', label: 'sample (temperature, top-p)' },
      ],
      'greedy',
    );
    this.decoding.addEventListener('change', () => this.update());
    this.continueButton.addEventListener('click', () => this.continueRun());
    this.stopButton.addEventListener('click', () => {
      const runId = this.ctx.store.runId;
      if (this.running && runId !== undefined) this.ctx.post({ type: 'cancel', runId });
    });
    const text = (action: 'insert' | 'copy') => {
      const runId = this.ctx.store.runId;
      if (runId !== undefined) this.ctx.post({ type: 'generatedText', runId, action });
    };
    this.insertButton.addEventListener('click', () => text('insert'));
    this.copyButton.addEventListener('click', () => text('copy'));
    this.whyButton.addEventListener('click', () => {
      const { store } = this.ctx;
      if (store.promptLength !== undefined && store.query >= store.promptLength)
        this.explainGenerated(store.query - store.promptLength + 1);
    });
    this.update();
  }

  /** A new run: no output yet (a replayed run that had some shows its tokens' text until the next Continue). */
  runStarted(): void {
    this.running = false;
    const { store } = this.ctx;
    this.output.textContent =
      store.promptLength !== undefined ? pieceText(store.tokens.slice(store.promptLength).map((t) => t.text)) : '';
    this.status.textContent = '';
    this.update();
  }

  /** Shows what fits the run: the bar for a finished causal-LM run, Stop while generating, the output once there is. */
  update(): void {
    const { store } = this.ctx;
    this.root.hidden = !(store.canContinue || this.running);
    this.samplingFields.hidden = this.decoding.value !== 'sample';
    this.continueButton.disabled = this.running || !store.canContinue;
    this.stopButton.hidden = !this.running;
    this.outputRow.hidden = store.promptLength === undefined;
    this.insertButton.disabled = this.copyButton.disabled = this.running;
    this.whyButton.hidden = !(store.promptLength !== undefined && store.query >= store.promptLength);
    this.whyButton.disabled = this.running;
  }

  private continueRun(): void {
    const { store } = this.ctx;
    const runId = store.runId;
    if (runId === undefined || this.running) return;
    const r = continueRequest(runId, {
      count: this.count.value,
      decoding: this.decoding.value,
      temperature: this.temperature.value,
      topP: this.topP.value,
      seed: this.seed.value,
    });
    if ('error' in r) {
      this.status.textContent = r.error;
      return;
    }
    this.running = true;
    this.status.textContent = 'Generating…';
    this.update();
    store.reserveTokens(r.maxNew); // the maps grow in place, token by token
    const pieces = store.promptLength !== undefined ? store.tokens.slice(store.promptLength).map((t) => t.text) : [];
    let count = 0;
    this.ctx
      .request('generate', r, {
        onEvent: (e) => {
          if (e.runId !== store.runId) return;
          if (
            !store.appendToken(
              e.position,
              e.token,
              e.rows.map((b) => new Float32Array(b)),
            )
          ) {
            this.ctx.post({
              type: 'log',
              level: 'warn',
              message: `Generated token at ${e.position} does not fit the run.`,
            });
            return;
          }
          count++;
          pieces.push(e.token.text);
          this.output.textContent = pieceText(pieces);
          this.status.textContent = `Generating… ${count} of ${r.maxNew}`;
          this.grew();
        },
      })
      .then(
        (reply) => {
          if (reply.runId !== store.runId) return;
          this.output.textContent = reply.text;
          // A reload restores prompt + output (the source carries the output's ids: panel-serializer.ts).
          store.source = reply.source;
          saveState({ source: reply.source });
          const how =
            reply.decoding.kind === 'greedy'
              ? 'greedy'
              : `temperature ${reply.decoding.temperature}, top-p ${reply.decoding.topP}, seed ${reply.decoding.seed}`;
          if (reply.decoding.kind === 'sample') this.seed.value = String(reply.decoding.seed);
          const why =
            reply.end === 'stop'
              ? 'stopped at an end token'
              : reply.end === 'stopped'
                ? 'stopped'
                : 'reached the count';
          this.status.textContent = `${reply.count} token${reply.count === 1 ? '' : 's'} · ${how} · ${why}`;
        },
        (e: unknown) => {
          this.status.textContent = e instanceof Error ? e.message : String(e);
        },
      )
      .finally(() => {
        this.running = false;
        this.update();
      });
  }
}
