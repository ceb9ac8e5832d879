// VS Code-styled controls from @vscode-elements/elements (the maintained successor of the deprecated webview UI
// toolkit): dropdowns and buttons that follow the workbench theme, including high contrast. Only the components
// the panel uses are imported, so the bundle stays small.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import { clear, el } from './dom';

export type Select = VscodeSingleSelect;
export type Button = VscodeButton;

/** A dropdown; listen for 'change' and read `.value`. */
export function select(id: string, label: string): Select {
  return el('vscode-single-select', { id, attrs: { 'aria-label': label } });
}

/** Replaces a dropdown's options (labels are set as text, never markup) and selects `value`. */
export function setOptions(s: Select, options: { value: string; label: string }[], value: string): void {
  clear(s);
  for (const o of options) {
    const option = el('vscode-option', { text: o.label, attrs: { value: o.value } });
    // The element reads its options when they are slotted (asynchronously): mark the chosen one up front.
    if (o.value === value) option.setAttribute('selected', '');
    s.appendChild(option);
  }
  s.value = value;
}

/** A button; `secondary` for the less prominent actions. */
export function button(id: string, text: string, options: { secondary?: boolean; title?: string } = {}): Button {
  const b = el('vscode-button', { id, text, ...(options.title ? { title: options.title } : {}) });
  if (options.secondary) b.setAttribute('secondary', '');
  return b;
}

/** Enables or disables a dropdown. The element keeps the tabindex it had when it was disabled and restores it on
 *  enabling; disabled before it was connected, that was −1, and Tab skipped it for good: an enabled dropdown is always
 *  a tab stop here. */
export function enable(s: Select, on: boolean): void {
  s.disabled = !on;
  if (on) s.tabIndex = 0;
}
