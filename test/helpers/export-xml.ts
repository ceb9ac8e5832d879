// A small strict XML parser for the SVG export tests (no XML package is installed): it accepts an XML declaration,
// elements, attributes in double or single quotes, text, the five predefined entities and numeric character
// references, comments; it rejects anything not well-formed (unclosed or mismatched tags, duplicate attributes,
// raw '<' or '&' in text or attribute values, characters XML 1.0 forbids, more than one root, content after it).

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated text content of this element (not of descendants). */
  text: string;
}

const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;
const FORBIDDEN = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

export function parseXml(src: string): XmlElement {
  const m = FORBIDDEN.exec(src);
  if (m) throw new Error(`character U+${m[0].codePointAt(0)!.toString(16)} is not allowed in XML`);
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`XML error at ${i}: ${why} (…${JSON.stringify(src.slice(Math.max(0, i - 30), i + 30))}…)`);
  };
  const name = (): string => {
    NAME.lastIndex = i;
    const r = NAME.exec(src);
    if (!r) fail('expected a name');
    i += r![0].length;
    return r![0];
  };
  const space = () => {
    while (i < src.length && /[ \t\r\n]/.test(src[i])) i++;
  };
  const decode = (s: string): string => {
    if (s.includes('<')) fail("raw '<'");
    return s.replace(/&([^;]*);|&/g, (all, ref: string | undefined) => {
      if (ref === undefined) return fail("raw '&'");
      if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
      if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
      if (!(ref in ENTITIES)) fail(`unknown entity ${all}`);
      return ENTITIES[ref];
    });
  };
  const skipMisc = () => {
    for (;;) {
      space();
      if (src.startsWith('<!--', i)) {
        const end = src.indexOf('-->', i + 4);
        if (end < 0) fail('unclosed comment');
        i = end + 3;
      } else return;
    }
  };

  if (src.startsWith('<?xml', i)) {
    const end = src.indexOf('?>', i);
    if (end < 0) fail('unclosed XML declaration');
    i = end + 2;
  }
  skipMisc();
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < src.length) {
    if (stack.length === 0 && root) {
      skipMisc();
      if (i < src.length) fail('content after the root element');
      break;
    }
    if (src.startsWith('<!--', i)) {
      skipMisc();
      continue;
    }
    if (src.startsWith('</', i)) {
      i += 2;
      const n = name();
      space();
      if (src[i] !== '>') fail("expected '>'");
      i++;
      const open = stack.pop();
      if (!open || open.name !== n) fail(`</${n}> does not close <${open?.name}>`);
      continue;
    }
    if (src[i] === '<') {
      i++;
      const el: XmlElement = { name: name(), attrs: {}, children: [], text: '' };
      for (;;) {
        const before = i;
        space();
        if (src.startsWith('/>', i)) {
          i += 2;
          break;
        }
        if (src[i] === '>') {
          i++;
          stack.push(el);
          break;
        }
        if (i === before) fail('expected whitespace before an attribute');
        const a = name();
        space();
        if (src[i] !== '=') fail("expected '='");
        i++;
        space();
        const q = src[i];
        if (q !== '"' && q !== "'") fail('attribute value must be quoted');
        const end = src.indexOf(q, i + 1);
        if (end < 0) fail('unclosed attribute value');
        if (a in el.attrs) fail(`duplicate attribute ${a}`);
        el.attrs[a] = decode(src.slice(i + 1, end));
        i = end + 1;
      }
      const parent = stack.at(-1) === el ? stack.at(-2) : stack.at(-1);
      if (parent) parent.children.push(el);
      else if (root) fail('second root element');
      else root = el;
      continue;
    }
    const end = src.indexOf('<', i);
    const text = src.slice(i, end < 0 ? src.length : end);
    if (stack.length === 0) {
      if (text.trim()) fail('text outside the root element');
    } else stack[stack.length - 1].text += decode(text);
    i = end < 0 ? src.length : end;
  }
  if (stack.length) fail(`<${stack.at(-1)!.name}> is not closed`);
  if (!root) fail('no root element');
  return root!;
}

/** Every element of the tree, depth first. */
export function allElements(e: XmlElement, out: XmlElement[] = []): XmlElement[] {
  out.push(e);
  for (const c of e.children) allElements(c, out);
  return out;
}
