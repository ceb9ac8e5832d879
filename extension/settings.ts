// The display and input settings, read with their defaults in one place: attentionLens.colorMap, maxTokens and
// idleUnloadMinutes (the model's own settings — modelPath, backend, threads, hubEndpoint — are model-manager.ts's
// readModelSettings, through checkedValue too). Every value is checked against its declaration in package.json
// (settings-logic.ts): a wrong one is replaced by the default and named once in a warning.
import * as vscode from 'vscode';
import manifest from '../package.json';
import { COLOR_MAPS, type ColorMapName } from '../protocol/messages';
import { checkedSetting, declaredSettings } from './settings-logic';

const section = () => vscode.workspace.getConfiguration('attentionLens');
const declared = declaredSettings(manifest);
/** Problems already shown (one warning per setting and wrong value, not one per read). */
const warned = new Set<string>();

/** `value`, read as attentionLens.`key`, when its declaration allows it; else the declared default (and a warning,
 *  once per wrong value). */
export function checkedValue<T>(key: string, value: unknown): T {
  const name = `attentionLens.${key}`;
  const r = checkedSetting<T>(name, declared.get(name), value);
  if (r.problem && !warned.has(r.problem)) {
    warned.add(r.problem);
    void vscode.window.showWarningMessage(r.problem);
  }
  return r.value;
}

/** attentionLens.`key`, checked (checkedValue). */
function read<T>(key: string): T {
  return checkedValue<T>(key, section().get<unknown>(key));
}

/** attentionLens.colorMap (viridis when unknown). */
export function colorMapSetting(): ColorMapName {
  const c = read<string>('colorMap');
  return (COLOR_MAPS as readonly string[]).includes(c) ? (c as ColorMapName) : 'viridis';
}

/** attentionLens.maxTokens: the longest input (capped by the model's positions). */
export function maxTokensSetting(): number {
  return read<number>('maxTokens');
}

/** attentionLens.translationBeams: the beam size of encoder–decoder translations (1: greedy, streamed). */
export function translationBeamsSetting(): number {
  return read<number>('translationBeams');
}

/** attentionLens.sourceLanguage / attentionLens.targetLanguage: an mBART model's language codes for the selection
 * and the translation (empty: the model's own, tokenizer_config.json's src_lang / tgt_lang and its generation config). */
export function languageSettings(): { sourceLanguage?: string; targetLanguage?: string } {
  const code = (name: string) => {
    const v = read<string>(name);
    return v.trim() !== '' ? v.trim() : undefined;
  };
  const sourceLanguage = code('sourceLanguage');
  const targetLanguage = code('targetLanguage');
  return {
    ...(sourceLanguage !== undefined ? { sourceLanguage } : {}),
    ...(targetLanguage !== undefined ? { targetLanguage } : {}),
  };
}

/** attentionLens.chatPrompt: Show Attention runs the selection as a chat prompt when the model has a template. */
export function chatPromptSetting(): boolean {
  return read<boolean>('chatPrompt');
}

/** attentionLens.idleUnloadMinutes. */
export function idleMinutesSetting(): number {
  return read<number>('idleUnloadMinutes');
}
