// followEdits (extension/run-range.ts): the analysed range through later edits, on hand-computed cases. The run's text
// is "quick brown" at document offset 4..15 of "the quick brown fox" (version 1). mappingCurrent: only for the
// document object the run read — one closed and opened again (a new TextDocument, its version back at 1) is not it.
// Plain objects stand for VS Code's TextDocuments.
import test from 'node:test';
import * as assert from 'node:assert/strict';
import { documentIdentity, followEdits, mappingCurrent, STALE_LINE } from '../../../extension/run-range';
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
