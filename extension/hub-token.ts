// The Hugging Face token: kept in VS Code's SecretStorage (never in settings, never logged; HF_TOKEN or the
// huggingface-cli login file when none is stored), and handed to a download only under trust-logic.ts's rule:
// over https (or plain http to this machine), to huggingface.co, or to a host the user confirmed once in a modal
// question (remembered in global state; a refusal lasts the session).
import * as vscode from 'vscode';
import type { TokenFor } from '../runtime/hub/download';
import { hubToken } from '../runtime/hub/hub-settings';
import { confirmQuestion, tokenRule } from './trust-logic';

const TOKEN_SECRET = 'attentionLens.hubToken';
/** Origins (scheme://host:port) the user agreed to send the token to. */
const CONFIRMED_KEY = 'attentionLens.tokenHosts';

export class HubToken {
  private readonly refused = new Set<string>();
  /** One question per origin at a time (two loads at once ask once). */
  private readonly asking = new Map<string, Promise<boolean>>();

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly state: vscode.Memento,
    private readonly log: vscode.OutputChannel,
  ) {}

  /** The stored token; undefined falls back to HF_TOKEN / the huggingface-cli login file. */
  get(): Thenable<string | undefined> {
    return this.secrets.get(TOKEN_SECRET);
  }

  /** Stores `value`, or removes the token when it is empty. */
  async set(value: string): Promise<void> {
    if (value.trim()) await this.secrets.store(TOKEN_SECRET, value.trim());
    else await this.secrets.delete(TOKEN_SECRET);
  }

  /** What a download from `endpoint` may send (runtime/hub's TokenFor): asked only when the Hub is contacted. */
  readonly forEndpoint: TokenFor = async (endpoint) => {
    const token = (await Promise.resolve(this.get()).catch(() => undefined))?.trim() || hubToken(undefined);
    if (!token) return undefined;
    const rule = tokenRule(endpoint, this.confirmed(), [...this.refused]);
    if (rule.kind === 'send') return token;
    if (rule.kind === 'withhold') {
      this.log.appendLine(rule.why);
      return { withheld: rule.why };
    }
    if (await this.confirm(rule.origin)) return token;
    return { withheld: `The Hugging Face token was not sent to ${rule.origin}: you chose to download without it.` };
  };

  private confirmed(): string[] {
    return this.state.get<string[]>(CONFIRMED_KEY, []).filter((o) => typeof o === 'string');
  }

  private confirm(origin: string): Promise<boolean> {
    let pending = this.asking.get(origin);
    if (!pending) {
      pending = this.ask(origin).finally(() => this.asking.delete(origin));
      this.asking.set(origin, pending);
    }
    return pending;
  }

  private async ask(origin: string): Promise<boolean> {
    const q = confirmQuestion(origin);
    const choice = await vscode.window.showWarningMessage(
      q.message,
      { modal: true, detail: q.detail },
      q.send,
      q.without,
    );
    if (choice === q.send) {
      await this.state.update(CONFIRMED_KEY, [...new Set([...this.confirmed(), origin])]);
      this.log.appendLine(`The Hugging Face token is sent to ${origin} from now on (you confirmed it).`);
      return true;
    }
    this.refused.add(origin);
    this.log.appendLine(
      `The Hugging Face token is not sent to ${origin} in this session (${choice ?? 'question closed'}).`,
    );
    return false;
  }
}
