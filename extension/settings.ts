// The display and input settings, read with their defaults in one place: attentionLens.colorMap, maxTokens and
// idleUnloadMinutes (the model's own settings — modelPath, backend, threads, hubEndpoint — are model-manager.ts's
// readModelSettings).
import * as vscode from 'vscode';
import { COLOR_MAPS, type ColorMapName } from '../protocol/messages';

const section = () => vscode.workspace.getConfiguration('attentionLens');

/** attentionLens.colorMap (viridis when unknown). */
export function colorMapSetting(): ColorMapName {
  const c = section().get<string>('colorMap', 'viridis');
  return (COLOR_MAPS as readonly string[]).includes(c) ? (c as ColorMapName) : 'viridis';
}

/** attentionLens.maxTokens: the longest input (0 or less: the model's positions). */
export function maxTokensSetting(): number {
  return section().get<number>('maxTokens', 512);
}

/** attentionLens.translationBeams: the beam size of encoder–decoder translations (1: greedy, streamed). */
export function translationBeamsSetting(): number {
  const n = section().get<number>('translationBeams', 1);
  return Number.isInteger(n) && n >= 1 && n <= 16 ? n : 1;
}

/** attentionLens.sourceLanguage / attentionLens.targetLanguage: an mBART model's language codes for the selection
 * and the translation (empty: the model's own, tokenizer_config.json's src_lang / tgt_lang and its generation config). */
export function languageSettings(): { sourceLanguage?: string; targetLanguage?: string } {
  const code = (name: string) => {
    const v = section().get<string>(name, '');
    return typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined;
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
  return section().get<boolean>('chatPrompt', false);
}

/** attentionLens.idleUnloadMinutes. */
export function idleMinutesSetting(): number {
  return section().get<number>('idleUnloadMinutes', 15);
}
