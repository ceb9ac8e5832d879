// The options every command that runs a model on one input takes (`run`, `export`), declared once for parseArgs, and
// their checks (one place for the model, text/file, backend, threads and input-limit rules of both commands).
import type { BackendName } from '../runtime/types';
import { quoted } from '../runtime/errors';
import { MAX_BEAMS } from '../runtime/inspector/seq2seq-constants';
import { backendOption, bad, inputLimitOption, wholeNumber } from './parse-options';

export const INPUT_OPTIONS = {
  model: { type: 'string' },
  text: { type: 'string' },
  file: { type: 'string' },
  backend: { type: 'string' },
  threads: { type: 'string' },
  truncate: { type: 'boolean' },
  chat: { type: 'boolean' },
  'max-input-mb': { type: 'string' },
} as const;

export interface InputArgs {
  model: string;
  /** Exactly one of text / file. */
  text?: string;
  file?: string;
  backend: BackendName | 'auto';
  threads?: number;
  truncate: boolean;
  /** Run the text as a user message in the model's chat template. */
  chat: boolean;
  /** Most bytes read from --file. */
  inputLimit: number;
}

/** The target of an encoder–decoder run (`run`, `export`): a text to score with teacher forcing, or a translation. */
export const TARGET_OPTIONS = {
  'target-text': { type: 'string' },
  translate: { type: 'boolean' },
  beams: { type: 'string' },
  'source-lang': { type: 'string' },
  'target-lang': { type: 'string' },
} as const;

export interface TargetArgs {
  /** Score this target (teacher forcing). */
  targetText?: string;
  /** Translate the text greedily. */
  translate: boolean;
  /** Translate by beam search with this many beams (1: greedy). */
  beams?: number;
  /** mBART: the source text's language code (RunOptions.sourceLanguage). */
  sourceLanguage?: string;
  /** mBART: the target's language code (RunOptions.targetLanguage). */
  targetLanguage?: string;
}

/** Checks the parsed TARGET_OPTIONS (whether the model is an encoder–decoder is checked once it is loaded). */
export function targetArgs(v: {
  'target-text'?: string;
  translate?: boolean;
  beams?: string;
  'source-lang'?: string;
  'target-lang'?: string;
}): TargetArgs {
  if (v['target-text'] !== undefined && v.translate)
    throw bad('Give either --target-text TEXT (score that translation) or --translate, not both.');
  if (v['target-text'] !== undefined && v['target-text'].trim().length === 0)
    throw bad('--target-text is empty; give the translation to score, or use --translate.');
  const beams = wholeNumber('beams', v.beams, 1, MAX_BEAMS);
  if (beams !== undefined && v['target-text'] !== undefined)
    throw bad('--beams chooses a translation; --target-text is scored as given. Leave one of them out.');
  for (const name of ['source-lang', 'target-lang'] as const)
    if (v[name] !== undefined && !/^\S+$/.test(v[name]))
      throw bad(`--${name} takes one of the model's language codes, such as de_DE; not ${quoted(v[name])}.`);
  return {
    ...(v['target-text'] !== undefined ? { targetText: v['target-text'] } : {}),
    translate: v.translate === true,
    ...(beams !== undefined ? { beams } : {}),
    ...(v['source-lang'] !== undefined ? { sourceLanguage: v['source-lang'] } : {}),
    ...(v['target-lang'] !== undefined ? { targetLanguage: v['target-lang'] } : {}),
  };
}

/** Refuses a target for a model that is not an encoder–decoder, naming the option. */
export function checkTargetModel(
  args: TargetArgs,
  facts: { name: string; modelType: string; encoderDecoder?: unknown },
): void {
  if (facts.encoderDecoder) return;
  const option =
    args.targetText !== undefined
      ? '--target-text'
      : args.translate
        ? '--translate'
        : args.beams !== undefined
          ? '--beams'
          : args.targetLanguage !== undefined
            ? '--target-lang'
            : args.sourceLanguage !== undefined
              ? '--source-lang'
              : undefined;
  if (option)
    throw bad(
      `${option} needs an encoder–decoder model (marian, bart, mbart, t5); ${facts.name} is ${facts.modelType}, so leave ${option} out.`,
    );
}

/** Checks the parsed INPUT_OPTIONS; every mistake is a one-line LensError. */
export function inputArgs(v: {
  [K in keyof typeof INPUT_OPTIONS]?: K extends 'truncate' | 'chat' ? boolean : string;
}): InputArgs {
  if (!v.model) throw bad('Missing --model: give a model folder, an .onnx file or a Hugging Face id (owner/name).');
  if (v.text !== undefined && v.file !== undefined) throw bad('Give either --text or --file, not both.');
  if (v.text === undefined && v.file === undefined) throw bad('Give the text to run with --text TEXT or --file PATH.');
  return {
    model: v.model,
    text: v.text,
    file: v.file,
    backend: backendOption(v.backend),
    threads: wholeNumber('threads', v.threads, 1, 256),
    truncate: v.truncate === true,
    chat: v.chat === true,
    inputLimit: inputLimitOption(v['max-input-mb']),
  };
}
