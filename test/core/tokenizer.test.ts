import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS } from '../helpers/paths';
import { createClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import { AppError } from '../../protocol/errors';

const dir = path.join(ASSETS, 'clip');
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference_tokenizations.json'), 'utf8'));
const tokenizer = createClipTokenizer(
  JSON.parse(fs.readFileSync(path.join(dir, 'hf/vocab.json'), 'utf8')),
  fs.readFileSync(path.join(dir, 'hf/merges.txt'), 'utf8'),
);

/**
 * Two reference cases come from tokenizers without ftfy (transformers.js, HF fast semantics) and contain what ftfy
 * rewrites: a NUL (removed) and U+FF5E FULLWIDTH TILDE (width-mapped to "~"). Our tokenizer follows transformers'
 * CLIPTokenizer with ftfy (issue #11; test/core/tokenizer-parity.test.ts), so for those two the ftfy ids are checked.
 */
const FTFY_REWRITES: Record<string, number[]> = {
  '1\u00002\ufffd3': [49406, 272, 273, 39802, 274, 49407], // "12�3": the NUL is removed
};
const noFtfyChange = (c: { prompt: string }): boolean => !/[\x00-\x08\x0b\x0e-\x1f\x7f\uff01-\uffef]/.test(c.prompt);

describe('CLIP tokenizer', () => {
  it('follows ftfy where the no-ftfy references differ (NUL removed, full-width forms mapped)', () => {
    for (const [text, ids] of Object.entries(FTFY_REWRITES)) expect([tokenizer.bosTokenId, ...tokenizer.tokenize(text), tokenizer.eosTokenId]).toEqual(ids);
    expect(tokenizer.tokenize('weird ～ edge')).toEqual(tokenizer.tokenize('weird ~ edge'));
    expect(ref.cases.filter((c: { prompt: string }) => !noFtfyChange(c))).toHaveLength(2);
  });

  it(`is exact on all ${ref.cases.length - 2} reference tokenizations that ftfy leaves alone`, () => {
    expect(ref.cases.length).toBe(31);
    const wrong = ref.cases.filter(noFtfyChange).filter((c: { prompt: string; ids: number[] }) => {
      const got = [tokenizer.bosTokenId, ...tokenizer.tokenize(c.prompt), tokenizer.eosTokenId];
      return JSON.stringify(got) !== JSON.stringify(c.ids);
    });
    expect(wrong.map((c: { prompt: string }) => c.prompt)).toEqual([]);
  });

  it('encode(…, 77) gives every reference case padded, with tokenCount = reference length and nothing dropped', () => {
    for (const c of (ref.cases as { prompt: string; ids: number[] }[]).filter(noFtfyChange)) {
      const { ids, tokenCount, droppedTokens } = tokenizer.encode(c.prompt, { padTokenId: 0, maxLength: 77 });
      expect(Array.from(ids.slice(0, c.ids.length)), c.prompt).toEqual(c.ids);
      expect(ids.slice(c.ids.length).every((x) => x === 0), c.prompt).toBe(true);
      expect(tokenCount).toBe(c.ids.length);
      expect(droppedTokens).toBe(0);
      expect(tokenizer.countTokens(c.prompt)).toBe(c.ids.length - 2);
    }
  });

  it('pads and truncates as the references do (EOS kept, dropped tokens counted)', () => {
    for (const group of ref.padding_truncation) {
      group.prompts.forEach((prompt: string, i: number) => {
        const expected: (number | null)[] = group.ids[i];
        const pad = 49407;
        const { ids, droppedTokens } = tokenizer.encode(prompt, { padTokenId: pad, maxLength: expected.length });
        expect(Array.from(ids)).toEqual(expected.map((x) => (x === null ? pad : x)));
        const content = tokenizer.countTokens(prompt);
        expect(droppedTokens).toBe(Math.max(0, content - (expected.length - 2)));
      });
    }
  });

  it('pads with the manifest pad id (49407 for SD 1.x, 0 for SD 2.x / SD-Turbo)', () => {
    const a = tokenizer.encode('a cat', { padTokenId: 49407, maxLength: 77 });
    const b = tokenizer.encode('a cat', { padTokenId: 0, maxLength: 77 });
    expect(a.ids.length).toBe(77);
    expect(Array.from(a.ids.slice(0, 4))).toEqual([49406, 320, 2368, 49407]);
    expect(a.ids[4]).toBe(49407);
    expect(Array.from(b.ids.slice(0, 4))).toEqual([49406, 320, 2368, 49407]);
    expect(b.ids[4]).toBe(0);
    expect(b.ids[76]).toBe(0);
    expect(a.tokenCount).toBe(4);
  });

  it('truncates a long prompt to 77 with EOS last and reports how many were dropped', () => {
    const prompt = Array.from({ length: 100 }, () => 'cat').join(' ');
    const { ids, droppedTokens, tokenCount } = tokenizer.encode(prompt, { padTokenId: 0, maxLength: 77 });
    expect(tokenCount).toBe(77);
    expect(ids[76]).toBe(49407);
    expect(ids[75]).toBe(2368);
    expect(droppedTokens).toBe(25);
  });

  it('collapses whitespace, lowercases and NFC-normalises', () => {
    expect(tokenizer.tokenize('  A   PHOTO\n of  ')).toEqual(tokenizer.tokenize('a photo of'));
    expect(tokenizer.tokenize('Cafe\u0301')).toEqual(tokenizer.tokenize('caf\u00e9'));
    expect(tokenizer.countTokens('')).toBe(0);
    expect(Array.from(tokenizer.encode('', { padTokenId: 0, maxLength: 4 }).ids)).toEqual([49406, 49407, 0, 0]);
  });

  it('keeps EOS at the end at the exact boundary (75 content tokens fit, 76 drop one)', () => {
    const words = (n: number) => Array.from({ length: n }, () => 'cat').join(' ');
    const fit = tokenizer.encode(words(75), { padTokenId: 49407, maxLength: 77 });
    expect(fit.droppedTokens).toBe(0);
    expect(fit.tokenCount).toBe(77);
    const over = tokenizer.encode(words(76), { padTokenId: 49407, maxLength: 77 });
    expect(over.droppedTokens).toBe(1);
    expect(over.ids[76]).toBe(49407);
    expect(over.ids[75]).toBe(2368);
  });

  it('rejects bad options and a non-CLIP vocab with AppErrors naming the value', () => {
    expect(() => tokenizer.encode('a', { padTokenId: 0, maxLength: 1 })).toThrow(AppError);
    expect(() => tokenizer.encode('a', { padTokenId: 0, maxLength: 1 })).toThrow(/maxLength .*got 1/);
    expect(() => tokenizer.encode('a', { padTokenId: -1, maxLength: 77 })).toThrow(/padTokenId .*got -1/);
    expect(() => createClipTokenizer({ a: 0 }, 'a b')).toThrow(AppError);
  });

  it('runs the transformers toy fixture', () => {
    const toy = ref.toy_fixture;
    const vocab: Record<string, number> = {};
    toy.vocab.forEach((t: string, i: number) => (vocab[t] = i));
    const t = createClipTokenizer(vocab, toy.merges.join('\n'));
    const ids = t.tokenize(toy.text);
    // Tokens missing from a toy vocab are skipped; the real vocab covers every byte symbol.
    const expected = toy.ids_tokens_plus_unk.slice(0, -1);
    expect(ids).toEqual(expected);
  });
});
