// Typed reads of config.json fields with the messages users see when one is missing or malformed: every reader
// names the field and the file. Shared by the normaliser of each family (config-normalise.ts, decoder-config.ts,
// rope-config.ts). No Node imports (the panel's webview worker normalises configs too).
import { LensError, quoted } from '../errors';

/** Activation functions the families implement. */
export type Activation = 'gelu' | 'gelu_new' | 'relu' | 'silu';

export function badConfig(message: string): LensError {
  return new LensError('BAD_CONFIG', message);
}

/** A config field whose value changes the model's math in a way Attention Lens does not implement. */
export function unsupportedField(where: string, field: string, value: unknown, what: string): LensError {
  return new LensError(
    'UNSUPPORTED_MODEL',
    `${where}: ${field} = ${quoted(value)} is not supported (${what}); Attention Lens would compute a different model than the one saved.`,
  );
}

export class ConfigFields {
  constructor(
    readonly raw: Record<string, unknown>,
    /** Names the file in messages ("config.json in DIR"). */
    readonly where: string,
    readonly modelType: string,
  ) {}

  /** True when the field is present and not null. */
  has(name: string): boolean {
    return this.raw[name] !== undefined && this.raw[name] !== null;
  }

  /** A positive integer from the first present of `names`. */
  int(names: string[], fallback?: number): number {
    for (const n of names) {
      const v = this.raw[n];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
        throw badConfig(`${this.where}: field ${n} must be a positive integer, found ${quoted(v)}.`);
      return v;
    }
    if (fallback !== undefined) return fallback;
    throw badConfig(`${this.where} is missing field ${names[0]} (needed for model_type ${this.modelType}).`);
  }

  /** A positive finite number from the first present of `names` (norm epsilons: 0, negatives and non-finite values
   * make the math undefined, so a run would show NaN attention). */
  num(names: string[], fallback: number): number {
    for (const n of names) {
      const v = this.raw[n];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
        throw badConfig(
          `${this.where}: field ${n} must be a number greater than 0, found ${quoted(v)}; fix ${this.where}.`,
        );
      return v;
    }
    return fallback;
  }

  /** A positive finite number, or null when the field is null; `fallback` when it is absent. */
  positiveOrNull(name: string, fallback: number | null): number | null {
    const v = this.raw[name];
    if (v === undefined) return fallback;
    if (v === null) return null;
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0)
      throw badConfig(`${this.where}: field ${name} must be a positive number or null, found ${quoted(v)}.`);
    return v;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw[name];
    if (v === undefined || v === null) return fallback;
    if (typeof v !== 'boolean')
      throw badConfig(`${this.where}: field ${name} must be true or false, found ${quoted(v)}.`);
    return v;
  }

  activation(name: string, fallback: string): Activation {
    const v = this.raw[name] ?? fallback;
    switch (v) {
      case 'gelu':
        return 'gelu';
      case 'gelu_new':
      case 'gelu_pytorch_tanh':
      case 'gelu_fast':
        return 'gelu_new';
      case 'relu':
        return 'relu';
      case 'silu':
      case 'swish':
        return 'silu';
      default:
        throw new LensError(
          'UNSUPPORTED_MODEL',
          `${this.where}: activation ${quoted(v)} (${name}) is not supported; supported: gelu, gelu_new, gelu_pytorch_tanh, relu, silu.`,
        );
    }
  }
}
