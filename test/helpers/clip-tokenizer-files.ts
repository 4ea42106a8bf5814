/**
 * The CLIP tokenizer files tests serve (../shared/assets/clip/hf), as manifest tokenizer file entries: exact bytes
 * and sha256, so the engine verifies them like weights. Pure data (no fs), usable from browser bundles; a node test
 * (test/runtime/catalog.test.ts) checks these numbers against the asset files.
 */
export const CLIP_ASSET_FILES = {
  vocab: { name: 'vocab.json', bytes: 862_328, sha256: '5047b556ce86ccaf6aa22b3ffccfc52d391ea4accdab9c2f2407da5b742d4363' },
  merges: { name: 'merges.txt', bytes: 524_657, sha256: 'f526393189112391ce6f9795d4695f704121ce452c3aad1f5335cc41337eba85' },
} as const;

/** `tokenizer.vocab` / `tokenizer.merges` entries for files served at `${base}/vocab.json` and `${base}/merges.txt`. */
export function clipTokenizerEntries(base: string): {
  vocab: { path: string; url: string; bytes: number; sha256: string };
  merges: { path: string; url: string; bytes: number; sha256: string };
} {
  const entry = (k: 'vocab' | 'merges') => ({
    path: `tokenizer/${CLIP_ASSET_FILES[k].name}`, url: `${base}/${CLIP_ASSET_FILES[k].name}`,
    bytes: CLIP_ASSET_FILES[k].bytes, sha256: CLIP_ASSET_FILES[k].sha256,
  });
  return { vocab: entry('vocab'), merges: entry('merges') };
}
