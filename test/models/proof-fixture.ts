/**
 * Node-side fixture for pipeline tests: the real CLIP tokenizer (from ASSETS) and a small "colour vocabulary" for
 * the proof models: each word's token gets an embedding whose decoded colour / laziness is known.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createClipTokenizer, type ClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import { ASSETS } from '../helpers/paths';
import { createProofModel, proofEmbedding, type ProofModel, type ProofModelOptions } from './proof-model';

/** Target colours (8-bit RGB) per prompt word; chosen away from rounding edges and inside the gamut. */
export const WORD_COLOURS = {
  red: [200, 40, 40],
  blue: [30, 60, 220],
  green: [50, 180, 70],
} as const satisfies Record<string, readonly [number, number, number]>;

/** Words that only make the UNet lazy (leave a share of the noise in). */
export const WORD_LAZINESS = { half: 0.5, slightly: 0.1 } as const;

let cached: ClipTokenizer | null = null;
export function loadClipTokenizer(): ClipTokenizer {
  if (cached) return cached;
  const dir = path.join(ASSETS, 'clip', 'hf');
  cached = createClipTokenizer(JSON.parse(fs.readFileSync(path.join(dir, 'vocab.json'), 'utf8')), fs.readFileSync(path.join(dir, 'merges.txt'), 'utf8'));
  return cached;
}

/** Token id → embedding for the colour and laziness words. */
export function colourVocabulary(tokenizer: ClipTokenizer): Map<number, number[]> {
  const table = new Map<number, number[]>();
  const idOf = (word: string): number => {
    const ids = tokenizer.tokenize(word);
    if (ids.length !== 1) throw new Error(`"${word}" is not a single CLIP token`);
    return ids[0]!;
  };
  for (const [word, rgb] of Object.entries(WORD_COLOURS)) table.set(idOf(word), proofEmbedding({ rgb }));
  for (const [word, lazy] of Object.entries(WORD_LAZINESS)) table.set(idOf(word), proofEmbedding({ lazy }));
  return table;
}

/** A proof model whose text encoder knows the colour vocabulary. */
export function createColourProofModel(opts: ProofModelOptions = {}): ProofModel {
  return createProofModel({ tokenEmbeddings: colourVocabulary(loadClipTokenizer()), ...opts });
}
