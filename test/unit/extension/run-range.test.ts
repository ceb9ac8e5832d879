// followEdits (extension/run-range.ts): the analysed range through later edits, on hand-computed cases. The run's text
// is "quick brown" at document offset 4..15 of "the quick brown fox" (version 1). mappingCurrent: only for the
// document object the run read — one closed and opened again (a new TextDocument, its version back at 1) is not it.
// Plain objects stand for VS Code's TextDocuments.
import test from 'node:test';
import * as assert from 'node:assert/strict';
import {
  documentIdentity,
  followEdits,
  followEolChange,
  mappingCurrent,
  STALE_LINE,
} from '../../../extension/run-range';
import type { DocMapping } from '../../../extension/run-snapshot';

/** The document the run read, as the extension host hands it out (one object while it is open). */
const DOC = { uri: 'file:///a.txt', version: 1 };
const RUN: DocMapping = { uri: DOC.uri, document: documentIdentity(DOC), version: 1, offset: 4, length: 11 };

/** The document the run read, edited to `version` (still the same object). */
function docAt(version: number): typeof DOC {
  DOC.version = version;
  return DOC;
}

/** Applies the edits to a string too, to check the range still covers the same text when not stale. */
function apply(text: string, edits: { offset: number; removed: number; text: string }[]): string {
  for (const e of edits) text = text.slice(0, e.offset) + e.text + text.slice(e.offset + e.removed);
  return text;
}

test('an edit before the range shifts it and keeps the run current', () => {
  const edits = [{ offset: 0, removed: 3, text: 'a very' }]; // "the" → "a very"
  const m = followEdits(
    RUN,
    edits.map((e) => ({ offset: e.offset, removed: e.removed, inserted: e.text.length })),
    2,
  );
  assert.deepEqual(m, { uri: RUN.uri, document: RUN.document, version: 2, offset: 7, length: 11 });
  const doc = apply('the quick brown fox', edits);
  assert.equal(doc.slice(m.offset, m.offset + m.length), 'quick brown');
  assert.equal(mappingCurrent(m, docAt(2)), true);
});

test('an insertion at the range start is before it; one at its end is after it', () => {
  assert.deepEqual(followEdits(RUN, [{ offset: 4, removed: 0, inserted: 2 }], 2), { ...RUN, version: 2, offset: 6 });
  assert.deepEqual(followEdits(RUN, [{ offset: 15, removed: 0, inserted: 5 }], 2), { ...RUN, version: 2 });
});

test('an edit after the range changes only the version', () => {
  const m = followEdits(RUN, [{ offset: 16, removed: 3, inserted: 4 }], 5);
  assert.deepEqual(m, { ...RUN, version: 5 });
  assert.equal(mappingCurrent(m, docAt(5)), true);
  assert.equal(mappingCurrent(m, docAt(6)), false, 'an edit the mapping did not see');
});

test('an edit inside the range marks it stale; the range grows or shrinks with the edit', () => {
  const inside = followEdits(RUN, [{ offset: 9, removed: 1, inserted: 3 }], 2); // " " → "---"
  assert.deepEqual(inside, { ...RUN, version: 2, length: 13, stale: true });
  assert.equal(mappingCurrent(inside, docAt(2)), false);
  // Overlapping its start: "the quick" → "a": the range starts at the edit and ends where "brown" ends now.
  const overlap = followEdits(RUN, [{ offset: 0, removed: 9, inserted: 1 }], 3);
  assert.deepEqual(overlap, { ...RUN, version: 3, offset: 0, length: 7, stale: true });
  // Stale stays stale through later edits elsewhere, and keeps following its range.
  const later = followEdits(inside, [{ offset: 0, removed: 0, inserted: 1 }], 3);
  assert.deepEqual(later, { ...RUN, version: 3, offset: 5, length: 13, stale: true });
});

test('several changes of one event apply in order', () => {
  // VS Code lists them last to first: " fox" deleted, then "the " deleted.
  const m = followEdits(
    RUN,
    [
      { offset: 15, removed: 4, inserted: 0 },
      { offset: 0, removed: 4, inserted: 0 },
    ],
    2,
  );
  assert.deepEqual(m, { ...RUN, version: 2, offset: 0 });
});

test('a document closed and opened again is not the one the run read, though its uri and version are the same', () => {
  // Opened, run at version 1, closed; the file changed on disk; opened again: a new object, at version 1 again.
  const first = { uri: 'file:///b.txt', version: 1 };
  const run: DocMapping = { uri: first.uri, document: documentIdentity(first), version: 1, offset: 4, length: 11 };
  assert.equal(mappingCurrent(run, first), true, 'the document the run read, unchanged');
  const reopened = { uri: 'file:///b.txt', version: 1 };
  assert.equal(mappingCurrent(run, reopened), false);
  // Edits to the reopened document do not make it current either.
  const followed = followEdits(run, [{ offset: 30, removed: 0, inserted: 1 }], 2);
  reopened.version = 2;
  assert.equal(mappingCurrent(followed, reopened), false);
  // The identity of an object stays the same; each object has its own.
  assert.equal(documentIdentity(first), run.document);
  assert.notEqual(documentIdentity(reopened), documentIdentity(first));
});

test('the stale line says what happened and what to do in words', () => {
  assert.equal(STALE_LINE, 'The text changed since this run — Show Attention again.');
});

// ----- line endings changed (LF ↔ CRLF: a new version, no content change) -----------------------------------------

/** The document as VS Code's TextDocument answers lineCount and offsetAt(line, 0), from its text. */
function lines(text: string) {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\r' && text[i + 1] === '\n') i++;
    if (text[i] === '\n' || text[i] === '\r') starts.push(i + 1);
  }
  return { lineCount: starts.length, lineStart: (l: number) => starts[l] };
}
const withEol = (text: string, eol: string) => text.replace(/\r\n|\n/g, eol);

test('line endings changed: the range moves by the line breaks before it; a range holding one is stale', () => {
  const lf = 'ab\ncd\nquick brown\nfox';
  const crlf = withEol(lf, '\r\n');
  const at = (offset: number, length: number, eol: 1 | 2): DocMapping => ({ ...RUN, offset, length, eol });
  // Hand-computed: "quick brown" starts after two line breaks.
  assert.deepEqual(followEolChange(at(6, 11, 1), 'quick brown', lines(crlf), 2, 2), { ...at(8, 11, 2), version: 2 });
  assert.deepEqual(followEolChange(at(8, 11, 2), 'quick brown', lines(lf), 1, 3), { ...at(6, 11, 1), version: 3 });
  // On the first line nothing moves; a text across a line break is stale and one character longer a break.
  assert.deepEqual(followEolChange(at(1, 1, 1), 'b', lines(crlf), 2, 2), { ...at(1, 1, 2), version: 2 });
  assert.deepEqual(followEolChange(at(3, 8, 1), 'cd\nquick', lines(crlf), 2, 2), {
    ...at(4, 9, 2),
    version: 2,
    stale: true,
  });
  // Called with the line endings the mapping already has: only the version follows.
  assert.deepEqual(followEolChange(at(6, 11, 1), 'quick brown', lines(lf), 1, 4), { ...at(6, 11, 1), version: 4 });
  // A mapping that did not record its line endings cannot follow them: stale.
  assert.equal(followEolChange({ ...RUN }, 'quick', lines(crlf), 2, 2).stale, true);
});

test('line endings changed: every one-line range of random documents still covers its text (string reference)', () => {
  let seed = 7;
  const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  for (let doc = 0; doc < 200; doc++) {
    const words = Array.from({ length: 3 + rand(12) }, () => 'xyz'.slice(0, 1 + rand(3)));
    const lf = words.map((w) => w + (rand(3) === 0 ? '\n' : ' ')).join('');
    for (const [from, to, eolTo] of [
      ['\n', '\r\n', 2],
      ['\r\n', '\n', 1],
    ] as const) {
      const before = withEol(lf, from);
      const after = withEol(lf, to);
      const start = rand(before.length);
      let end = start;
      while (end < before.length && before[end] !== '\n' && before[end] !== '\r' && end - start < 5) end++;
      const text = before.slice(start, end);
      if (!text) continue;
      const m = followEolChange(
        { ...RUN, offset: start, length: text.length, eol: from === '\n' ? 1 : 2 },
        text,
        lines(after),
        eolTo,
        9,
      );
      assert.equal(m.stale, undefined, `${JSON.stringify(before)} [${start}, ${end})`);
      assert.equal(after.slice(m.offset, m.offset + m.length), text, `${JSON.stringify(after)} from ${start}`);
    }
  }
});
