// The Output channel 'Attention Lens' with its recent lines kept in memory, so that the test API can say what the log
// says (e.g. that closing a panel mid-run leaves no "Panel did not take…" line). Everything else goes to the channel.
import type * as vscode from 'vscode';

/** Lines kept (the oldest go first). */
const KEEP = 2000;

export interface RecordedChannel extends vscode.OutputChannel {
  /** The lines appended so far (the last KEEP). */
  lines(): readonly string[];
}

export function recordedChannel(channel: vscode.OutputChannel): RecordedChannel {
  const kept: string[] = [];
  const keep = (line: string) => {
    kept.push(line);
    if (kept.length > KEEP) kept.splice(0, kept.length - KEEP);
  };
  return {
    get name() {
      return channel.name;
    },
    append: (value: string) => channel.append(value),
    appendLine: (value: string) => {
      keep(value);
      channel.appendLine(value);
    },
    replace: (value: string) => channel.replace(value),
    clear: () => channel.clear(),
    show: (a?: unknown, b?: boolean) =>
      typeof a === 'boolean' || a === undefined ? channel.show(a) : channel.show(a as vscode.ViewColumn, b),
    hide: () => channel.hide(),
    dispose: () => channel.dispose(),
    lines: () => kept,
  };
}
