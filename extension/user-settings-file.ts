// The User settings file of a remote window as the extension host can read it: code-server keeps it in its user data
// folder beside the extension's global storage (<user-data>/User/settings.json), on the machine the extension runs
// on. Read only (the model-path check of model-path-logic.ts), again only when it changed. Other remote hosts (SSH,
// WSL, Codespaces) keep the User settings on the client, out of reach: there nothing is found, and the README says
// where the model path goes.
import { readFileSync, statSync } from 'node:fs';

let file: string | undefined;
let cached: { mtimeMs: number; size: number; text: string } | undefined;

/** Sets the file to read (activate(): in a remote window only; undefined: none). */
export function setUserSettingsFile(path: string | undefined): void {
  file = path;
  cached = undefined;
}

/** The file's path, if one is set. */
export function userSettingsFile(): string | undefined {
  return file;
}

/** The file's text, or undefined when there is none or it cannot be read. */
export function userSettingsText(): string | undefined {
  if (!file) return undefined;
  try {
    const st = statSync(file);
    if (!st.isFile() || st.size > 4 * 1024 * 1024) return undefined;
    if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached.text;
    const text = readFileSync(file, 'utf8');
    cached = { mtimeMs: st.mtimeMs, size: st.size, text };
    return text;
  } catch {
    return undefined;
  }
}
