// A small XML well-formedness check for the SVG the report draws (ladder.test.ts, timeline.test.ts): balanced
// tags, quoted attributes without a raw '<', only the five named entities or numeric ones, one root element,
// nothing but whitespace outside it. Throws with the offset of the first fault. Not a validating parser.

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /[A-Za-z_][-\w.:]*/y;
const ATTR = /\s+([A-Za-z_][-\w.:]*)\s*=\s*"([^"<]*)"/y;
const ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;

function checkEntities(s: string, at: number): string {
  for (let i = s.indexOf('&'); i >= 0; i = s.indexOf('&', i + 1)) {
    ENTITY.lastIndex = i;
    if (!ENTITY.test(s)) throw new Error(`bad entity or bare & at ${at + i}: ${s.slice(i, i + 12)}`);
  }
  const named: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);/g, (_, e: string) => (e[0] === '#' ? String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : named[e]));
}

/** Parse and check; returns the root element with its tree (text unescaped). */
export function parseXml(src: string): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let i = 0;
  while (i < src.length) {
    if (src.startsWith('<!--', i)) {
      const end = src.indexOf('-->', i);
      if (end < 0) throw new Error(`unclosed comment at ${i}`);
      i = end + 3;
    } else if (src.startsWith('<?', i)) {
      const end = src.indexOf('?>', i);
      if (end < 0 || i !== 0) throw new Error(`misplaced processing instruction at ${i}`);
      i = end + 2;
    } else if (src.startsWith('</', i)) {
      NAME.lastIndex = i + 2;
      const m = NAME.exec(src);
      const top = stack.pop();
      if (!m || !top || top.name !== m[0]) throw new Error(`closing tag </${m?.[0]}> at ${i} does not match <${top?.name}>`);
      i = NAME.lastIndex;
      if (src[i] !== '>') throw new Error(`bad closing tag at ${i}`);
      i++;
    } else if (src[i] === '<') {
      NAME.lastIndex = i + 1;
      const m = NAME.exec(src);
      if (!m) throw new Error(`bad tag name at ${i}`);
      const e: XmlElement = { name: m[0], attrs: {}, children: [], text: '' };
      let j = NAME.lastIndex;
      for (;;) {
        ATTR.lastIndex = j;
        const a = ATTR.exec(src);
        if (!a) break;
        if (a[1] in e.attrs) throw new Error(`attribute ${a[1]} repeated at ${j}`);
        e.attrs[a[1]] = checkEntities(a[2], j);
        j = ATTR.lastIndex;
      }
      while (src[j] === ' ' || src[j] === '\n') j++;
      const selfClosing = src.startsWith('/>', j);
      if (!selfClosing && src[j] !== '>') throw new Error(`malformed tag <${e.name}> at ${i}: ${src.slice(j, j + 20)}`);
      if (stack.length) stack[stack.length - 1].children.push(e);
      else if (root) throw new Error(`second root element <${e.name}> at ${i}`);
      else root = e;
      if (!selfClosing) stack.push(e);
      i = j + (selfClosing ? 2 : 1);
    } else {
      const end = src.indexOf('<', i) < 0 ? src.length : src.indexOf('<', i);
      const raw = src.slice(i, end);
      if (raw.includes('>')) throw new Error(`raw '>' in text at ${i}`);
      const t = checkEntities(raw, i);
      if (stack.length) stack[stack.length - 1].text += t;
      else if (t.trim()) throw new Error(`text outside the root element at ${i}`);
      i = end;
    }
  }
  if (stack.length) throw new Error(`unclosed <${stack[stack.length - 1].name}>`);
  if (!root) throw new Error('no root element');
  return root;
}

/** Every element of a tree, depth first. */
export function allElements(e: XmlElement): XmlElement[] {
  return [e, ...e.children.flatMap(allElements)];
}

/** Checks an SVG document as the report writes it: SVG 1.1 root with xmlns, size, viewBox, then title and desc. */
export function checkSvg(svg: string): XmlElement {
  const root = parseXml(svg);
  const fail = (why: string) => { throw new Error(`not the SVG we promise: ${why}`); };
  if (root.name !== 'svg') fail(`root is <${root.name}>`);
  if (root.attrs.xmlns !== 'http://www.w3.org/2000/svg') fail('no SVG xmlns');
  if (root.attrs.version !== '1.1') fail('version is not 1.1');
  const [w, h] = [Number(root.attrs.width), Number(root.attrs.height)];
  if (!(w > 0 && h > 0)) fail('width/height missing');
  if (root.attrs.viewBox !== `0 0 ${w} ${h}`) fail(`viewBox ${root.attrs.viewBox} does not match ${w}x${h}`);
  if (root.children[0]?.name !== 'title' || root.children[1]?.name !== 'desc') fail('<title> and <desc> are not the first children');
  return root;
}
