// The Explain view's inputs: the target (only those that fit the model: next token for causal LMs, a masked position
// for masked LMs, similarity with a reference text for any model, a target token of the translation for
// encoder–decoders) and the methods to compare, as @vscode-elements
// controls like the rest of the panel. Labels and token texts go in as text, never markup.
import '@vscode-elements/elements/dist/vscode-checkbox/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import '@vscode-elements/elements/dist/vscode-textarea/index.js';
import type { VscodeCheckbox } from '@vscode-elements/elements/dist/vscode-checkbox/vscode-checkbox.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { VscodeTextarea } from '@vscode-elements/elements/dist/vscode-textarea/vscode-textarea.js';
import { EXPLAIN_METHODS } from '../../protocol/messages';
import { el } from '../dom';
import { select, setOptions } from '../controls';
import { tokenLabel } from '../../figures/token-display';
import type { ModelFactsLike, TokenInfo } from '../types';
import {
  defaultMethods,
  maskPositions,
  methodUnavailable,
  modelKind,
  targetOptions,
  targetPositions,
  targetSpec,
  type TargetKind,
} from './explain-target';

export type Checkbox = VscodeCheckbox;
export type Textfield = VscodeTextfield;
export type Textarea = VscodeTextarea;

export function checkbox(label: string, attrs: Record<string, string> = {}): Checkbox {
  const c = el('vscode-checkbox', { attrs });
  c.label = label;
  return c;
}

export function textfield(id: string, label: string, placeholder: string): Textfield {
  const t = el('vscode-textfield', { id, attrs: { 'aria-label': label } });
  t.placeholder = placeholder;
  return t;
}

export function textarea(id: string, label: string, placeholder: string): Textarea {
  const t = el('vscode-textarea', { id, attrs: { 'aria-label': label } });
  t.placeholder = placeholder;
  t.rows = 2;
  return t;
}

export class ExplainControls {
  readonly target = select('explain-target', 'Target to explain');
  readonly token = textfield('explain-next-token', 'Next token', 'token, e.g. " mat"');
  readonly contrast = textfield('explain-contrast-token', 'Contrast token', 'token B, e.g. " hat" or #42');
  readonly position = select('explain-mask-position', 'Position to mask');
  readonly targetPosition = select('explain-target-position', 'Target token');
  readonly reference = textarea('explain-reference', 'Reference text', 'A reference text to compare this input with');
  private readonly methods = new Map<string, Checkbox>();
  private readonly tokenField = el('label', { class: 'explain-field', text: 'Token ' }, this.token);
  private readonly contrastField = el('label', { class: 'explain-field', text: 'rather than ' }, this.contrast);
  private readonly positionField = el('label', { class: 'explain-field', text: 'Position ' }, this.position);
  private readonly targetPositionField = el(
    'label',
    { class: 'explain-field', text: 'Target token ' },
    this.targetPosition,
  );
  /** The target tokens the position choice was made from (encoder–decoders), to refresh it once they arrive. */
  private targetTokens: readonly TokenInfo[] = [];
  private readonly referenceField = el('label', { class: 'explain-field explain-reference', text: 'Reference ' });
  readonly root = el('div', { class: 'explain-controls' });

  constructor(onChange: () => void) {
    this.referenceField.appendChild(this.reference);
    const methodRow = el('div', { class: 'explain-methods', attrs: { role: 'group', 'aria-label': 'Methods' } });
    methodRow.appendChild(el('span', { class: 'explain-label', text: 'Methods' }));
    for (const m of EXPLAIN_METHODS) {
      const c = checkbox(m.label, { 'data-method': m.id });
      c.addEventListener('change', onChange);
      this.methods.set(m.id, c);
      methodRow.appendChild(c);
    }
    methodRow.appendChild(el('span', { class: 'explain-note', text: '+ the uniform-attention baseline, always' }));
    this.target.addEventListener('change', () => {
      this.showFields();
      onChange();
    });
    this.root.append(
      el(
        'div',
        { class: 'explain-target-row' },
        el('label', { class: 'explain-field', text: 'Target ' }, this.target),
        this.tokenField,
        this.contrastField,
        this.positionField,
        this.targetPositionField,
        this.referenceField,
      ),
      methodRow,
    );
    this.showFields();
  }

  /** A new run: the targets that fit its model, the default methods, masked positions from its tokens. */
  reset(facts: ModelFactsLike, tokens: readonly TokenInfo[]): void {
    const options = targetOptions(modelKind(facts));
    const keep = options.some((o) => o.kind === this.target.value) ? this.target.value : options[0].kind;
    setOptions(
      this.target,
      options.map((o) => ({ value: o.kind, label: o.label })),
      keep,
    );
    const positions = maskPositions(modelKind(facts), tokens);
    setOptions(
      this.position,
      positions.map((i) => ({ value: String(i), label: `${i}: ${tokenLabel(tokens[i])}` })),
      positions.length ? String(positions[0]) : '',
    );
    this.setTargetTokens([]);
    const defaults = defaultMethods(facts);
    for (const [id, c] of this.methods) {
      const why = methodUnavailable(facts, id);
      c.disabled = why !== undefined;
      c.title = why ?? '';
      c.checked = why === undefined && defaults.includes(id);
    }
    this.showFields();
  }

  /** Encoder–decoders: the translation's tokens (they arrive after the run starts), offered as target positions. */
  setTargetTokens(tokens: readonly TokenInfo[]): void {
    if (tokens === this.targetTokens) return;
    this.targetTokens = tokens;
    const positions = targetPositions(tokens);
    const keep = positions.some((p) => String(p.position) === this.targetPosition.value)
      ? this.targetPosition.value
      : positions.length
        ? String(positions[0].position)
        : '';
    setOptions(
      this.targetPosition,
      positions.map((p) => ({ value: String(p.position), label: `${p.position}: ${tokenLabel(p.token)}` })),
      keep,
    );
    this.showFields(); // the target list has settled by now (it may not have when reset() ran)
  }

  get kind(): TargetKind {
    return this.target.value as TargetKind;
  }

  private showFields(): void {
    const kind = this.kind;
    this.tokenField.hidden =
      kind !== 'next-token' && kind !== 'next-token-prob' && kind !== 'contrast' && kind !== 'target-contrast';
    this.contrastField.hidden = kind !== 'contrast' && kind !== 'target-contrast';
    this.targetPositionField.hidden = kind !== 'target-token' && kind !== 'target-contrast';
    this.positionField.hidden = kind !== 'mask-at';
    this.referenceField.hidden = kind !== 'similarity';
  }

  /** The ticked methods, in the registry's order. */
  chosenMethods(): string[] {
    return [...this.methods].filter(([, c]) => c.checked && !c.disabled).map(([id]) => id);
  }

  setMethods(ids: readonly string[]): void {
    for (const [id, c] of this.methods) if (!c.disabled) c.checked = ids.includes(id);
  }

  /** The target spec and methods to request, or what the user must fix first. */
  request(): { target: string; methods: string[] } | { error: string } {
    const t = targetSpec(this.kind, {
      token: this.token.value,
      contrast: this.contrast.value,
      position: this.position.value === '' ? NaN : Number(this.position.value),
      ...(this.targetPosition.value !== '' ? { targetPosition: Number(this.targetPosition.value) } : {}),
      reference: this.reference.value,
    });
    if ('error' in t) return t;
    const methods = this.chosenMethods();
    if (!methods.length) return { error: 'Choose at least one method.' };
    return { target: t.spec, methods };
  }
}
