/** models/upscalers/*.json: every listed manifest validates, ids match file names, bad entries are refused by field. */
import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { parseUpscalerManifest } from '../../ui/core/upscale/upscaler-manifest';
import { ROOT } from '../helpers/paths';

const DIR = path.join(ROOT, 'models/upscalers');
const read = (f: string): unknown => JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8'));

describe('upscaler manifests', () => {
  const index = read('index.json') as { upscalers: string[] };

  it('lists every manifest in the folder, and each validates with its evidence', () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.json') && f !== 'index.json').sort();
    expect([...index.upscalers].sort()).toEqual(files);
    for (const f of index.upscalers) {
      const m = parseUpscalerManifest(read(f));
      expect(`${m.id}.json`).toBe(f);
      expect(m.evidence.length).toBeGreaterThanOrEqual(2);
      expect(m.licence.commercial_use).toBe(true);
    }
    expect(parseUpscalerManifest(read('realesr-general-x4v3.json'))).toMatchObject({ scale: 4, weights: { bytes: 4885111 } });
    expect(parseUpscalerManifest(read('omnisr-x2.json'))).toMatchObject({ scale: 2, licence: { name: 'Apache-2.0' } });
  });

  it('refuses unpinned or inconsistent entries, naming the field', () => {
    const good = read('omnisr-x2.json') as Record<string, unknown>;
    const weights = good['weights'] as Record<string, unknown>;
    expect(() => parseUpscalerManifest({ ...good, weights: { ...weights, sha256: 'abc' } })).toThrow(/weights\.sha256/);
    expect(() => parseUpscalerManifest({ ...good, weights: { ...weights, url: 'http://example.com/x' } })).toThrow(/weights\.url/);
    expect(() => parseUpscalerManifest({ ...good, status: 'ready' })).toThrow(/needs an "onnx" file/);
    expect(() => parseUpscalerManifest({ ...good, extra: 1 })).toThrow(/extra/);
  });
});
