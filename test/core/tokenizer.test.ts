import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS } from '../helpers/paths';
import { createClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';

const dir = path.join(ASSETS, 'clip');
const ref = JSON.parse(fs.readFileSync(path.join(dir, 'reference_tokenizations.json'), 'utf8'));
const tokenizer = createClipTokenizer(
  JSON.parse(fs.readFileSync(path.join(dir, 'hf/vocab.json'), 'utf8')),
  fs.readFileSync(path.join(dir, 'hf/merges.txt'), 'utf8'),
);

describe('CLIP tokenizer', () => {
  it(`is exact on all ${ref.cases.length} reference tokenizations`, () => {
    expect(ref.cases.length).toBe(31);
    const wrong = ref.cases.filter((c: { prompt: string; ids: number[] }) => {
      const got = [tokenizer.bosTokenId, ...tokenizer.tokenize(c.prompt), tokenizer.eosTokenId];
      return JSON.stringify(got) !== JSON.stringify(c.ids);
    });
    expect(wrong.map((c: { prompt: string }) => c.prompt)).toEqual([]);
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

  it('collapses whitespace and lowercases', () => {
    expect(tokenizer.tokenize('  A   PHOTO\n of  ')).toEqual(tokenizer.tokenize('a photo of'));
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
