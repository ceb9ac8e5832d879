// What an opened workspace may decide, and where the Hugging Face token may go — decided without VS Code (so unit
// tests check it). The Hub endpoint comes from the user's own settings only, never from a workspace's
// .vscode/settings.json, which any repository the user opens can carry; the token goes over https (or plain http to
// this machine) to huggingface.co, or to another host only once the user has confirmed that host. In Restricted Mode
// (an untrusted workspace) the workspace's model setting is not used either: the user's is, and the user is told.
import { DEFAULT_ENDPOINT, tokenNotSentLine, tokenTransport } from '../runtime/hub/hub-settings';

/** A setting's values by scope, as WorkspaceConfiguration.inspect() gives them. */
export interface SettingValues<T> {
  globalValue?: T;
  workspaceValue?: T;
  workspaceFolderValue?: T;
}

/** The value of a setting that must not come from a workspace: the user's (global, or the remote machine's in a remote
 * window, which VS Code merges into globalValue); a workspace's value is never read. */
export function userValue(values: SettingValues<unknown> | undefined): string {
  const v = values?.globalValue;
  return typeof v === 'string' ? v.trim() : '';
}

/** The hosts that get the token without a question (the Hub itself). */
export const HUB_HOSTS: readonly string[] = [new URL(DEFAULT_ENDPOINT).hostname];

/** What to do with the token for an endpoint: send it, ask the user first, or keep it back (and why). */
export type TokenRule = { kind: 'send' } | { kind: 'ask'; origin: string } | { kind: 'withhold'; why: string };

/** The origin a confirmation is remembered by (scheme, host and port). */
export function endpointOrigin(endpoint: string): string {
  return new URL(endpoint).origin;
}

/** The rule for `endpoint` given the origins the user confirmed (and those refused in this session). */
export function tokenRule(endpoint: string, confirmed: readonly string[], refused: readonly string[] = []): TokenRule {
  if (tokenTransport(endpoint) === 'clear') return { kind: 'withhold', why: tokenNotSentLine(endpoint) };
  const url = new URL(endpoint);
  if (url.protocol === 'https:' && HUB_HOSTS.includes(url.hostname)) return { kind: 'send' };
  const origin = endpointOrigin(endpoint);
  if (confirmed.includes(origin)) return { kind: 'send' };
  if (refused.includes(origin)) {
    return {
      kind: 'withhold',
      why: `The Hugging Face token was not sent to ${origin}: you chose not to send it to that host in this session.`,
    };
  }
  return { kind: 'ask', origin };
}

/** The modal question before a token first goes to a host other than huggingface.co. */
export function confirmQuestion(origin: string): { message: string; detail: string; send: string; without: string } {
  const host = new URL(origin).host;
  return {
    message: `Send your Hugging Face token to ${host}?`,
    detail:
      `The Hub endpoint in your user settings (attentionLens.hubEndpoint or HF_ENDPOINT) is ${origin}. The token goes ` +
      `to huggingface.co without asking; to another host only once you confirm it, and this answer is remembered. ` +
      `Without it, public models still download.`,
    send: `Send Token to ${host}`,
    without: 'Download Without Token',
  };
}

/** The line for a workspace's model setting that Restricted Mode does not use. */
export function restrictedModelLine(ignored: string, used: string): string {
  return (
    `This workspace's settings choose the model ${ignored}, which is not used in Restricted Mode (the workspace is ` +
    `not trusted)${used ? `; running ${used} from your user settings` : ''}. Trust the workspace to use its model, ` +
    `or choose one with "Attention Lens: Select Model".`
  );
}

/** JSON with comments and trailing commas (settings.json, .code-workspace) as plain JSON text. */
export function jsoncToJson(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = /"(?:[^"\\]|\\.)*"/y;
      end.lastIndex = i;
      const m = end.exec(text);
      const str = m ? m[0] : text.slice(i);
      out += str;
      i += str.length - 1;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      const close = text.indexOf('*/', i + 2);
      i = close < 0 ? text.length : close + 1;
      out += ' ';
    } else out += c;
  }
  return out.replace(/,(\s*[}\]])/g, '$1');
}

/** A string setting in a settings file's text (`nested`: under "settings", as a .code-workspace file keeps them);
 * undefined when the file cannot be read as JSON or does not set it. */
export function settingInFile(text: string, key: string, nested = false): string | undefined {
  let data: unknown;
  try {
    data = JSON.parse(jsoncToJson(text));
  } catch {
    return undefined;
  }
  const settings = nested ? (data as { settings?: unknown } | null)?.settings : data;
  const value = settings && typeof settings === 'object' ? (settings as Record<string, unknown>)[key] : undefined;
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}
