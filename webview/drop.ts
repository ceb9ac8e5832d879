// Dropping a file onto the panel opens it as a saved run (the host's Open Saved Run): the drop's URI when it has one
// (the Explorer, the OS file manager) — a JSON run, or either file of an NPY export, whose other file the host finds
// beside it — else the files themselves (from a browser's page or a file manager that gives no URI): a JSON run's
// text, or an NPY export's bytes with its sidecar's text when both were dropped. The host checks and reads them;
// nothing of the files is rendered here but what the host then posts, as text.
import { MAX_DROPPED_TEXT, type OpenDroppedMessage } from '../protocol/messages';

/** Every URI of a text/uri-list (comments and blank lines skipped). */
export function uris(list: string): string[] {
  return list
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

/** What a drop sends: a URI, the files to read (a JSON run's `text`; an NPY export's `npy` with its sidecar as
 *  `text` when it was dropped too), or nothing and why. */
export type DropPlan<F> =
  { kind: 'uri'; uri: string } | { kind: 'files'; text?: F; npy?: F } | { kind: 'none'; why: string };

const RUN_URI = /\.(json|npy)$/i;

/** Decides what of a drop goes to the host (pure: the URIs of its uri-list, its files by name and size). */
export function planDrop<F extends { name: string; size: number }>(
  dropped: readonly string[],
  files: readonly F[],
  types: readonly string[] = [],
): DropPlan<F> {
  const uri = dropped.find((u) => RUN_URI.test(u));
  if (uri) return { kind: 'uri', uri };
  const npy = files.find((f) => /\.npy$/i.test(f.name));
  const json = files.find((f) => /\.json$/i.test(f.name));
  // The sidecar Export… → NPY writes beside NAME.npy is NAME.npy.json (a renamed one: the .json dropped with it).
  const text = npy ? (files.find((f) => f.name === `${npy.name}.json`) ?? json) : (json ?? files[0]);
  if (!npy && !text)
    return { kind: 'none', why: `A drop without a file (${types.join(', ') || 'no data'}) was ignored.` };
  for (const f of [npy, text])
    if (f && f.size > MAX_DROPPED_TEXT)
      return {
        kind: 'none',
        why: `The dropped file ${f.name} is over ${MAX_DROPPED_TEXT} bytes; use Open Saved Run… instead.`,
      };
  return { kind: 'files', ...(text ? { text } : {}), ...(npy ? { npy } : {}) };
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
    const plan = planDrop(uris(dt.getData('text/uri-list')), Array.from(dt.files), Array.from(dt.types));
    if (plan.kind === 'none') return log(plan.why);
    if (plan.kind === 'uri') return send({ type: 'openDropped', uri: plan.uri });
    const { text, npy } = plan;
    const name = (f: File) => f.name.slice(0, 255);
    void Promise.all([text?.text(), npy?.arrayBuffer()]).then(
      ([t, bytes]) =>
        send({
          type: 'openDropped',
          ...(text && t !== undefined ? { text: t, name: name(text) } : {}),
          ...(npy && bytes ? { npy: bytes, npyName: name(npy) } : {}),
        }),
      (err: unknown) => log(`The dropped file ${(npy ?? text)!.name} could not be read: ${String(err)}`),
    );
  });
}
