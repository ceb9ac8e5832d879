// A setting's value checked against its own declaration in package.json (contributes.configuration): VS Code hands
// an extension whatever settings.json holds — "64" for a number, "true" for a boolean, -5 below a minimum — and
// underlines it in the editor, but a run would silently misread it (a string chatPrompt once hid every layer of the
// panel). Each value is checked for its type, enum and range; a wrong one is replaced by the declared default and
// named in one line that says what the setting takes. vscode-free: settings.ts reads, this decides.

/** The part of a setting's JSON schema that is checked. */
export interface SettingSchema {
  type?: string | string[];
  enum?: readonly unknown[];
  minimum?: number;
  maximum?: number;
  default?: unknown;
}

/** Every setting declared in a package.json manifest, by its full name (attentionLens.maxTokens). */
export function declaredSettings(manifest: unknown): Map<string, SettingSchema> {
  const out = new Map<string, SettingSchema>();
  const c = (manifest as { contributes?: { configuration?: unknown } } | undefined)?.contributes?.configuration;
  for (const part of Array.isArray(c) ? c : c ? [c] : []) {
    const props = (part as { properties?: Record<string, SettingSchema> }).properties ?? {};
    for (const [name, schema] of Object.entries(props)) out.set(name, schema);
  }
  return out;
}

/** The value as settings.json would spell it, short. */
function shown(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

/** What a setting takes, in words: "a whole number from 1 to 8192", "one of auto, native, wasm, webgpu". */
export function takes(schema: SettingSchema): string {
  if (schema.enum) return `one of ${schema.enum.map((e) => String(e)).join(', ')}`;
  const type = Array.isArray(schema.type) ? schema.type[0] : schema.type;
  const range =
    schema.minimum !== undefined && schema.maximum !== undefined
      ? ` from ${schema.minimum} to ${schema.maximum}`
      : schema.minimum !== undefined
        ? ` of at least ${schema.minimum}`
        : schema.maximum !== undefined
          ? ` of at most ${schema.maximum}`
          : '';
  if (type === 'integer') return `a whole number${range}`;
  if (type === 'number') return `a number${range}`;
  if (type === 'boolean') return 'true or false';
  if (type === 'string') return 'a string in quotes';
  return `a value of type ${String(type)}`;
}

function fitsType(type: string, v: unknown): boolean {
  switch (type) {
    case 'integer':
      return typeof v === 'number' && Number.isInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string':
      return typeof v === 'string';
    case 'null':
      return v === null;
    case 'array':
      return Array.isArray(v);
    case 'object':
      return typeof v === 'object' && v !== null && !Array.isArray(v);
    default:
      return true;
  }
}

/** Why `value` is not a valid `name`, in one line naming the default used instead; undefined when it is valid. */
export function settingProblem(name: string, schema: SettingSchema, value: unknown): string | undefined {
  const types = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  let ok = types.length === 0 || types.some((t) => fitsType(t, value));
  if (ok && schema.enum) ok = schema.enum.includes(value);
  if (ok && typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) ok = false;
    if (schema.maximum !== undefined && value > schema.maximum) ok = false;
  }
  if (ok) return undefined;
  return (
    `The setting ${name} is ${shown(value)}; it takes ${takes(schema)}. ` +
    `Using ${shown(schema.default)} until it is changed in your settings.`
  );
}

/** The value to use for `name`: `value` when valid (or unset: the declared default), else the declared default and
 *  the problem. */
export function checkedSetting<T>(
  name: string,
  schema: SettingSchema | undefined,
  value: unknown,
): { value: T; problem?: string } {
  if (!schema) return { value: value as T };
  if (value === undefined) return { value: schema.default as T };
  const problem = settingProblem(name, schema, value);
  return problem ? { value: schema.default as T, problem } : { value: value as T };
}
