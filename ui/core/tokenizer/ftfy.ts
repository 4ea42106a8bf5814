/**
 * ftfy.fix_text (6.x) as transformers' CLIPTokenizer applies it when ftfy is installed, minus the mojibake repair:
 * per line, repeated until nothing changes — HTML entities (unless the text has a "<"), C1 controls read as
 * windows-1252, Latin ligatures, full/half-width forms, curly quotes, line breaks, lone surrogates, terminal escapes,
 * control characters, NFC. Named departure: `fix_encoding` (re-decoding mojibake such as "cafÃ©" → "café") is not
 * done — it needs ftfy's encoding heuristics; such prompts tokenize as typed.
 * Tables: ./ftfy-data.ts, generated from ftfy by tools/parity/make_ftfy_data.py.
 */
import { C1_TO_WINDOWS_1252, CONTROL_CHARS, HTML_ENTITIES, LIGATURES, WIDTH_MAP } from './ftfy-data';

let entities: Map<string, string> | null = null;
function entityTable(): Map<string, string> {
  if (!entities) {
    entities = new Map();
    for (const e of HTML_ENTITIES.split('\u0001')) {
      const eq = e.indexOf('=');
      entities.set(`&${e.slice(0, eq)};`, e.slice(eq + 1));
    }
  }
  return entities;
}

/** html.unescape's replacements for invalid numeric references (HTML5 §13.2.5.80). */
const INVALID_CHARREFS: Readonly<Record<number, string>> = {
  0x00: '\ufffd', 0x0d: '\r', 0x80: '\u20ac', 0x81: '\x81', 0x82: '\u201a', 0x83: '\u0192', 0x84: '\u201e', 0x85: '\u2026', 0x86: '\u2020',
  0x87: '\u2021', 0x88: '\u02c6', 0x89: '\u2030', 0x8a: '\u0160', 0x8b: '\u2039', 0x8c: '\u0152', 0x8d: '\x8d', 0x8e: '\u017d', 0x8f: '\x8f',
  0x90: '\x90', 0x91: '\u2018', 0x92: '\u2019', 0x93: '\u201c', 0x94: '\u201d', 0x95: '\u2022', 0x96: '\u2013', 0x97: '\u2014', 0x98: '\u02dc',
  0x99: '\u2122', 0x9a: '\u0161', 0x9b: '\u203a', 0x9c: '\u0153', 0x9d: '\x9d', 0x9e: '\u017e', 0x9f: '\u0178',
};
/** Code points html.unescape drops from numeric references (control chars and noncharacters). */
function invalidCodepoint(cp: number): boolean {
  return (cp >= 0x1 && cp <= 0x8) || cp === 0xb || (cp >= 0xe && cp <= 0x1f) || (cp >= 0x7f && cp <= 0x9f) || (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) === 0xfffe;
}

/** Python html.unescape of one complete numeric reference "&#…;" (ftfy keeps the text when a ";" would remain). */
function numericRef(ref: string): string {
  const m = /^&#([xX][0-9a-fA-F]+|[0-9]+);$/.exec(ref);
  if (!m) return ref;
  const body = m[1]!;
  const cp = body[0] === 'x' || body[0] === 'X' ? parseInt(body.slice(1), 16) : parseInt(body, 10);
  if (cp in INVALID_CHARREFS) return INVALID_CHARREFS[cp]!;
  if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return '\ufffd';
  if (invalidCodepoint(cp)) return '';
  return String.fromCodePoint(cp);
}

const unescapeHtml = (text: string): string =>
  text.replace(/&#?[0-9A-Za-z]{1,24};/g, (ref) => {
    const named = entityTable().get(ref);
    if (named !== undefined) return named;
    return ref.startsWith('&#') ? numericRef(ref) : ref;
  });

const CONTROL = new Set(CONTROL_CHARS);
const mapChars = (text: string, table: Readonly<Record<string, string>>): string => {
  let out = '';
  for (const ch of text) out += table[ch] ?? ch;
  return out;
};

function fixOnce(text: string, unescape: boolean): string {
  let t = unescape ? unescapeHtml(text) : text;
  t = t.replace(/[\x80-\x9f]/g, (c) => C1_TO_WINDOWS_1252[c] ?? c);
  t = mapChars(t, LIGATURES);
  t = mapChars(t, WIDTH_MAP);
  t = t.replace(/[“-‟]/g, '"').replace(/[ʼ‘-‛]/g, "'");
  t = t.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\u0085]/g, '\n');
  t = t.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
  t = t.replace(/\x1b\[((?:\d|;)*)([a-zA-Z])/g, '');
  let kept = '';
  for (const ch of t) if (!CONTROL.has(ch.codePointAt(0)!)) kept += ch;
  return kept.normalize('NFC');
}

/** ftfy.fix_text with its default config, except fix_encoding (see the module comment). */
export function ftfyFixText(text: string): string {
  let out = '';
  let unescape = true;
  let pos = 0;
  while (pos < text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl + 1;
    let seg = text.slice(pos, end);
    if (seg.includes('<')) unescape = false; // unescape_html="auto": text with "<" may be HTML (sticks for later lines)
    for (let i = 0; i < 100; i++) {
      const next = fixOnce(seg, unescape);
      if (next === seg) break;
      seg = next;
    }
    out += seg;
    pos = end;
  }
  return out;
}
