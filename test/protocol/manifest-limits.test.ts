/**
 * #15.6: the manifest validator refuses what the plugin protocol would refuse. A custom manifest with a default
 * size of 8192², a fixed size of 0×0 or a 250-character id used to pass validation and then produce requests the
 * plugin dropped (the UI waited 120 s). Property: every manifest that parses yields a prepare-job the protocol accepts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import { parseUiToPlugin } from '../../protocol/messages';
import { effectiveSize, sizeOptions, workingSizeRequest } from '../../ui/app/model-params';
import { parseManifest, type RawManifest } from '../../ui/core/manifest';
import { ROOT } from '../helpers/paths';
import { seededRandom } from '../helpers/seeded-random';

const MODELS = path.join(ROOT, 'models');
const base = JSON.parse(fs.readFileSync(path.join(MODELS, 'sd-turbo.json'), 'utf8')) as RawManifest;
const withSizes = (sizes: Partial<RawManifest['sizes']>, extra: Partial<RawManifest> = {}): unknown =>
  ({ ...base, ...extra, sizes: { ...base.sizes, ...sizes } });

function refusal(json: unknown): string {
  try {
    parseManifest(json);
  } catch (err) {
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('INVALID_MANIFEST');
    return (err as AppError).message;
  }
  throw new Error('expected the manifest to be refused');
}

/** The prepare-job the UI would send for this manifest, for every size the UI offers. */
function prepareJobsFor(raw: RawManifest): unknown[] {
  const m = { sizes: raw.sizes };
  const sizes = [effectiveSize(m, null), ...sizeOptions(m).map((o) => ({ width: o.width, height: o.height }))];
  return sizes.map((generateSize, i) => ({ type: 'prepare-job', requestId: `p-${i}`, mode: 'generate', size: workingSizeRequest(m), generateSize }));
}

describe('manifest limits = protocol limits (#15.6)', () => {
  it('refuses sizes and ids the protocol would refuse, naming the field', () => {
    expect(refusal(withSizes({ default_width: 8192, default_height: 8192 }))).toMatch(/At sizes\.default_width: expected an integer in \[64, 4096\], got 8192/);
    expect(refusal(withSizes({ default_width: 1024 }))).toMatch(/At sizes\.default_width: 1024 is larger than sizes\.max_side \(512\)/);
    expect(refusal(withSizes({ fixed: [{ width: 0, height: 0 }] }))).toMatch(/At sizes\.fixed\.0\.width: expected an integer in \[64, 4096\], got 0/);
    expect(refusal(withSizes({ fixed: [] }))).toMatch(/At sizes\.fixed: expected at least 1 items/);
    expect(refusal(withSizes({ multiple: 1000 }))).toMatch(/At sizes\.multiple: expected an integer in \[8, 256\], got 1000/);
    expect(refusal({ ...base, id: 'a'.repeat(250) })).toMatch(/At id: expected at most 100 characters, got 250/);
  });

  it('every shipped manifest, and random manifests that pass, produce prepare-job requests the plugin accepts', () => {
    for (const f of fs.readdirSync(MODELS).filter((x) => x.endsWith('.json') && x !== 'index.json')) {
      const raw = parseManifest(JSON.parse(fs.readFileSync(path.join(MODELS, f), 'utf8'))).raw;
      for (const msg of prepareJobsFor(raw)) expect(parseUiToPlugin(msg), f).toMatchObject({ ok: true });
    }
    const rand = seededRandom(156);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)] as T;
    const sides = [0, 1, 63, 64, 128, 512, 512, 768, 1024, 2048, 4096, 4097, 8192];
    let accepted = 0;
    for (let i = 0; i < 2000; i++) {
      const fixed = rand() < 0.3 ? Array.from({ length: 1 + Math.floor(rand() * 3) }, () => ({ width: pick(sides), height: pick(sides) })) : undefined;
      const json = withSizes({
        default_width: pick(sides), default_height: pick(sides), max_side: pick(sides), multiple: pick([1, 8, 64, 64, 256, 512]),
        ...(fixed ? { fixed } : {}),
      });
      let raw: RawManifest;
      try {
        raw = parseManifest(json).raw;
      } catch {
        continue;
      }
      accepted++;
      for (const msg of prepareJobsFor(raw)) {
        const parsed = parseUiToPlugin(msg);
        expect(parsed.ok ? 'ok' : parsed.reason, JSON.stringify(raw.sizes)).toBe('ok');
      }
    }
    expect(accepted).toBeGreaterThan(10);
  });
});
