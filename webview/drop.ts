// Dropping a file onto the panel opens it as a saved run (the host's Open Saved Run): the drop's URI when it has one
// (the Explorer, the OS file manager), else the file's own text (a file from a browser's page). The host checks and
// reads it; nothing of the file is rendered here but what the host then posts, as text.
import { MAX_DROPPED_TEXT, type OpenDroppedMessage } from '../protocol/messages';

/** The first URI of a text/uri-list (comments and blank lines skipped). */
export function firstUri(list: string): string | undefined {
  return list
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('#'));
}

/** Accepts drops anywhere on `target`; `send` gets what the host needs, `log` why a drop was not sent. */
export function acceptDroppedRuns(
  target: HTMLElement,
  send: (m: OpenDroppedMessage) => void,
  log: (line: string) => void,
): void {
  target.addEventListener('dragover', (e) => {
    e.preventDefault();
    if (e.dataTransfer) e.dataTransfer.dropEffect = 'copy';
  });
  target.addEventListener('drop', (e) => {
    e.preventDefault();
    const dt = e.dataTransfer;
    if (!dt) return;
    const uri = firstUri(dt.getData('text/uri-list'));
    if (uri && /\.json$/i.test(uri)) {
      send({ type: 'openDropped', uri });
      return;
    }
    const file = dt.files[0];
    if (!file) {
      log(`A drop without a file (${dt.types.join(', ') || 'no data'}) was ignored.`);
      return;
    }
    if (file.size > MAX_DROPPED_TEXT) {
      log(`The dropped file ${file.name} is over ${MAX_DROPPED_TEXT} bytes; use Open Saved Run… instead.`);
      return;
    }
    void file.text().then(
      (text) => send({ type: 'openDropped', text, name: file.name.slice(0, 255) }),
      (err: unknown) => log(`The dropped file ${file.name} could not be read: ${String(err)}`),
    );
  });
}
