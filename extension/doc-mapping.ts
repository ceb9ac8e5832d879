// Records where a run's text lies in its document when the run starts: the document version, the offset of the
// selection and its length; run-range.ts follows it through later edits (an edit outside the text keeps the run, one
// inside marks it stale). The hover and the tint use the mapping only while it is current, so an edit can never
// misplace them (they say "the text changed since this run" instead).
import * as vscode from 'vscode';
import type { RunSource } from '../protocol/messages';
import { documentIdentity } from './run-range';
import type { DocMapping } from './run-snapshot';

/** The mapping of `source` to its open document now, or undefined when it is not open or no longer has that text. */
export function mapSource(source: RunSource): DocMapping | undefined {
  if (!source.uri) return undefined;
  const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === source.uri);
  if (!doc) return undefined;
  const [l0, c0, l1, c1] = source.range;
  const range = new vscode.Range(l0, c0, l1, c1);
  if (doc.validateRange(range).isEqual(range) === false || doc.getText(range) !== source.text) return undefined;
  return {
    uri: source.uri,
    document: documentIdentity(doc),
    version: doc.version,
    offset: doc.offsetAt(range.start),
    length: source.text.length,
    eol: doc.eol === vscode.EndOfLine.CRLF ? 2 : 1,
  };
}
