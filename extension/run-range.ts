// Follows the text a run analysed through the edits made to its document after the run (vscode-free, so that unit
// tests check it): an edit before the range shifts it, an edit after it changes nothing, and an edit that touches the
// text inside marks the run stale — the hover, the tint and the panel then say "the text changed since this run". A
// document closed and opened again is not the one the run read (documentIdentity), whatever its version says.
import type { DocMapping } from './run-snapshot';

/** One edit as VS Code reports it: `removed` characters at document offset `offset` replaced by `inserted` ones. */
export interface TextEdit {
  offset: number;
  removed: number;
  inserted: number;
}

/** What the hover, the tint and the panel say about a run whose analysed text was edited. */
export const STALE_LINE = 'The text changed since this run — Show Attention again.';

/**
 * The mapping after `edits` (applied in order, each offset in the document as the previous edits left it — VS Code
 * lists an event's changes so that this holds) made the document `version`. `length` is the analysed text's length
 * in the document now. A stale mapping keeps following its range (so that the hover can still say it is stale there).
 */
export function followEdits(m: DocMapping, edits: readonly TextEdit[], version: number): DocMapping {
  let { offset, length } = m;
  let stale = m.stale === true;
  for (const e of edits) {
    const end = offset + length;
    const eEnd = e.offset + e.removed;
    const delta = e.inserted - e.removed;
    if (eEnd <= offset && !(e.removed === 0 && e.offset > offset)) {
      // Entirely before the range (an insertion at its first character included): the range moves.
      offset += delta;
    } else if (e.offset >= end) {
      // At or after its end: nothing to do.
    } else {
      // Touches the analysed text: the run no longer describes it. The range grows or shrinks with the edit.
      stale = true;
      const start = Math.min(offset, e.offset);
      const newEnd = Math.max(end, eEnd) + delta;
      offset = start;
      length = Math.max(0, newEnd - start);
    }
  }
  return { ...m, version, offset, length, ...(stale ? { stale: true } : {}) };
}

/**
 * The mapping after the document's line endings changed (Change End of Line Sequence, or a file reloaded with other
 * line endings: VS Code reports the whole document replaced). Every line break before the analysed text
 * grew or shrank by one character, so the text moves by that many; a text that holds a line break itself is no longer
 * what the run read (the model saw the old line breaks, and its tokens' offsets count them): stale. `eol`: characters
 * a line break takes now (1 LF, 2 CRLF); `lineStart(l)`: the document offset of line l now. A mapping that does not
 * know its line breaks (made before it recorded them) is stale on any such change.
 */
export function followEolChange(
  m: DocMapping,
  text: string,
  doc: { readonly lineCount: number; lineStart(line: number): number },
  eol: 1 | 2,
  version: number,
): DocMapping {
  if (m.eol === eol) return { ...m, version };
  if (m.eol === undefined) return { ...m, version, eol, stale: true };
  const breaks = (text.match(/\r\n|\r|\n/g) ?? []).length;
  const grow = eol - m.eol;
  // Line l starts at lineStart(l) - l·grow in the old text: the last line starting at or before the old offset holds
  // the range's start, with l line breaks before it.
  let lo = 0;
  let hi = doc.lineCount - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (doc.lineStart(mid) - mid * grow <= m.offset) lo = mid;
    else hi = mid - 1;
  }
  return {
    ...m,
    version,
    eol,
    offset: m.offset + lo * grow,
    length: m.length + breaks * grow,
    ...(breaks > 0 ? { stale: true as const } : {}),
  };
}

const identities = new WeakMap<object, number>();
let lastIdentity = 0;

/**
 * A number that stands for this document object while it lives. VS Code's extension host keeps one TextDocument
 * object for a document while it is open and makes a new one when it is opened again, whose version starts again at
 * 1: the number tells a reopened document (its file perhaps changed on disk meanwhile) from the one a run read,
 * without keeping the closed one in memory.
 */
export function documentIdentity(doc: object): number {
  let id = identities.get(doc);
  if (id === undefined) identities.set(doc, (id = ++lastIdentity));
  return id;
}

/** True when the run's numbers describe `doc` as it is now: the document the run read (not one opened again since),
 *  at the version the mapping followed it to (no edit missed), and not stale. */
export function mappingCurrent(m: DocMapping, doc: { readonly version: number }): boolean {
  return m.stale !== true && m.version === doc.version && m.document === documentIdentity(doc);
}
