// The Hugging Face token: kept in VS Code's SecretStorage (never in settings, never logged) and handed to the model
// manager for downloads of gated or private models.
import type * as vscode from 'vscode';

const TOKEN_SECRET = 'attentionLens.hubToken';

export class HubToken {
  constructor(private readonly secrets: vscode.SecretStorage) {}

  /** The stored token; undefined falls back to HF_TOKEN / the huggingface-cli login file. */
  get(): Thenable<string | undefined> {
    return this.secrets.get(TOKEN_SECRET);
  }

  /** Stores `value`, or removes the token when it is empty. */
  async set(value: string): Promise<void> {
    if (value.trim()) await this.secrets.store(TOKEN_SECRET, value.trim());
    else await this.secrets.delete(TOKEN_SECRET);
  }
}
