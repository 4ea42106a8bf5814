/**
 * CLIP BPE tokenizer, as transformers' CLIPTokenizer with ftfy installed (its documented setup, what diffusers loads
 * with transformers ≤ 4): ftfy.fix_text (./ftfy.ts; mojibake repair excepted), Python's whitespace collapse (str \s),
 * lower(), CLIP's split pattern, byte→unicode mapping,
 * `</w>` end-of-word marker, BPE by merge rank with a cache. Reads HF `vocab.json` + `merges.txt` (a first line
 * starting with `#version` is skipped). Pure: no DOM, no I/O.
 */
import { AppError } from '../../../protocol/errors';
import { ftfyFixText } from './ftfy';

export interface EncodeResult {
  /** Token ids, length `maxLength`: BOS, content, EOS, then padding. */
  readonly ids: Int32Array;
  /** Tokens incl. BOS/EOS before padding (≤ maxLength after truncation). */
  readonly tokenCount: number;
  /** Content tokens dropped because the prompt was longer than `maxLength`. */
  readonly droppedTokens: number;
}

export interface ClipTokenizer {
  /** `<|startoftext|>` from the vocab (49406 for CLIP). */
  readonly bosTokenId: number;
  /** `<|endoftext|>` from the vocab (49407 for CLIP). */
  readonly eosTokenId: number;
  /** Content token ids (no BOS/EOS, no padding). */
  tokenize(text: string): number[];
  /**
   * `input_ids` as CLIPTokenizer(padding="max_length", truncation=True): BOS, up to maxLength − 2 content tokens, EOS,
   * then `padTokenId` (49407 for SD 1.x, 0 for SD 2.x / SD-Turbo). AppError INVALID_INPUT for a bad maxLength/pad id.
   */
  encode(text: string, opts: { padTokenId: number; maxLength: number }): EncodeResult;
  /** Number of content tokens (no BOS/EOS): the live counter shows this against maxLength - 2. */
  countTokens(text: string): number;
}

/** GPT-2/CLIP bytes_to_unicode: printable bytes map to themselves, the rest to U+0100 onwards. */
function bytesToUnicode(): string[] {
  const bs: number[] = [];
  for (let i = 33; i <= 126; i++) bs.push(i);
  for (let i = 161; i <= 172; i++) bs.push(i);
  for (let i = 174; i <= 255; i++) bs.push(i);
  const cs = [...bs];
  let n = 0;
  for (let b = 0; b < 256; b++) {
    if (!bs.includes(b)) {
      bs.push(b);
      cs.push(256 + n);
      n++;
    }
  }
  const table: string[] = new Array(256);
  bs.forEach((b, i) => (table[b] = String.fromCodePoint(cs[i]!)));
  return table;
}

/** Python's `\s` on str (str.isspace): JS's \s lacks U+001C–U+001F and U+0085 and adds U+FEFF. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

// CLIP's pattern: special tokens, contractions, letter runs, single digits, runs of other non-space characters.
const PATTERN = new RegExp(`<\\|startoftext\\|>|<\\|endoftext\\|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^${PY_SPACE}\\p{L}\\p{N}]+`, 'giu');
const SPACES = new RegExp(`[${PY_SPACE}]+`, 'g');

/** transformers' CLIPTokenizer with ftfy: whitespace_clean(ftfy.fix_text(text)).lower(). */
function cleanText(text: string): string {
  return ftfyFixText(text).replace(SPACES, ' ').replace(new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g'), '').toLowerCase();
}

/**
 * Builds the tokenizer from HF `vocab.json` (token → id) and `merges.txt` text. Throws AppError INVALID_MANIFEST when
 * the vocab lacks `<|startoftext|>` / `<|endoftext|>`.
 */
export function createClipTokenizer(vocab: Readonly<Record<string, number>>, mergesText: string): ClipTokenizer {
  const lines = mergesText.split('\n');
  const start = lines[0]?.startsWith('#version') ? 1 : 0;
  const ranks = new Map<string, number>();
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!.replace(/\r$/, '');
    if (!line) continue;
    ranks.set(line, i - start);
  }
  const byteEncoder = bytesToUnicode();
  const encoder = new TextEncoder();
  const cache = new Map<string, string[]>();
  const bos = vocab['<|startoftext|>'];
  const eos = vocab['<|endoftext|>'];
  if (bos === undefined || eos === undefined) {
    throw new AppError('INVALID_MANIFEST', 'The tokenizer vocabulary has no <|startoftext|> / <|endoftext|> token; it is not a CLIP vocab.json.');
  }

  function bpe(token: string): string[] {
    const cached = cache.get(token);
    if (cached) return cached;
    const chars = Array.from(token);
    if (chars.length === 0) return [];
    let word = [...chars.slice(0, -1), chars[chars.length - 1] + '</w>'];
    while (word.length > 1) {
      let best = -1;
      let bestRank = Infinity;
      for (let i = 0; i < word.length - 1; i++) {
        const r = ranks.get(`${word[i]} ${word[i + 1]}`);
        if (r !== undefined && r < bestRank) {
          bestRank = r;
          best = i;
        }
      }
      if (best < 0) break;
      const first = word[best]!;
      const second = word[best + 1]!;
      // Merge every occurrence of the best pair, left to right (as simple_tokenizer.bpe).
      const merged: string[] = [];
      for (let i = 0; i < word.length; ) {
        if (i < word.length - 1 && word[i] === first && word[i + 1] === second) {
          merged.push(first + second);
          i += 2;
        } else {
          merged.push(word[i]!);
          i += 1;
        }
      }
      word = merged;
    }
    if (cache.size < 10_000) cache.set(token, word);
    return word;
  }

  function tokenize(text: string): number[] {
    const ids: number[] = [];
    for (const match of cleanText(text).matchAll(PATTERN)) {
      const piece = match[0];
      if (piece === '<|startoftext|>' || piece === '<|endoftext|>') {
        ids.push(vocab[piece]!);
        continue;
      }
      let mapped = '';
      for (const byte of encoder.encode(piece)) mapped += byteEncoder[byte];
      for (const sub of bpe(mapped)) {
        const id = vocab[sub];
        // Every byte-level symbol is in the vocab, so BPE output always is; guard anyway.
        if (id !== undefined) ids.push(id);
      }
    }
    return ids;
  }

  return {
    bosTokenId: bos,
    eosTokenId: eos,
    tokenize,
    countTokens: (text) => tokenize(text).length,
    encode(text, { padTokenId, maxLength }) {
      if (!Number.isInteger(maxLength) || maxLength < 2 || maxLength > 1024) {
        throw new AppError('INVALID_INPUT', `maxLength must be a whole number from 2 to 1024, got ${maxLength}.`);
      }
      if (!Number.isInteger(padTokenId) || padTokenId < 0 || padTokenId > 0x7fffffff) {
        throw new AppError('INVALID_INPUT', `padTokenId must be a whole number ≥ 0, got ${padTokenId}.`);
      }
      const content = tokenize(text);
      const room = maxLength - 2;
      const kept = content.slice(0, room);
      const ids = new Int32Array(maxLength).fill(padTokenId);
      ids[0] = bos;
      ids.set(kept, 1);
      ids[kept.length + 1] = eos;
      return { ids, tokenCount: kept.length + 2, droppedTokens: Math.max(0, content.length - room) };
    },
  };
}
