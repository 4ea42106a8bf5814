/**
 * The diffusers recipe of a local image (ui/core/pipelines/reproduce.ts) on the real catalogue manifests: pinned
 * revision, the pipeline class per mode, and honest `exact` / `departures` where an export makes exactness impossible.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { recipe as recipeValidator } from '../../protocol/messages';
import { parseManifest } from '../../ui/core/manifest';
import { diffusersReproduction } from '../../ui/core/pipelines';
import { ROOT } from '../helpers/paths';

const load = (id: string) => ({ manifest: parseManifest(JSON.parse(fs.readFileSync(path.join(ROOT, 'models', `${id}.json`), 'utf8'))) });

describe('diffusersReproduction', () => {
  it('SD-Turbo txt2img: StableDiffusionPipeline at the pinned revision, exact', () => {
    const r = diffusersReproduction(load('sd-turbo'), { mode: 'txt2img', seed: 2n ** 64n - 1n, steps: 1 });
    expect(r).toMatchObject({ pipeline: 'StableDiffusionPipeline', source: 'schmuell/sd-turbo-ort-web', revision: 'ace89b7d2cd849f9a73914cdbb8a3ea60c853dd1', seed: '18446744073709551615', exact: true });
    expect(r.scheduler).toEqual(load('sd-turbo').manifest.scheduler);
  });

  it('an encoder that samples in its graph (or gives only the mean) makes img2img / inpaint inexact, and says why', () => {
    const ctx = load('sd-turbo');
    const kind = ctx.manifest.raw.vae_encoder_output;
    const r = diffusersReproduction(ctx, { mode: 'img2img', seed: 1, steps: 4, strength: 0.5 });
    expect(r.pipeline).toBe('StableDiffusionImg2ImgPipeline');
    expect(r.encoder).toBe(kind === 'mean_logvar' ? 'diffusers' : kind === 'mean' ? 'posterior-mean' : 'in-graph-sample');
    expect(r.exact).toBe(r.encoder === 'diffusers');
    if (!r.exact) expect(r.departures.join(' ')).toMatch(/VAE encoder/);
    const withMeanLogvar = { manifest: { ...ctx.manifest, raw: { ...ctx.manifest.raw, vae_encoder_output: 'mean_logvar' as const } } };
    const exact = diffusersReproduction(withMeanLogvar, { mode: 'img2img', seed: 1, steps: 4, strength: 0.5 });
    expect(exact).toMatchObject({ encoder: 'diffusers', exact: true });
    expect(exact.departures.join(' ')).not.toMatch(/VAE encoder/);
    expect(diffusersReproduction(withMeanLogvar, { mode: 'img2img', seed: 1, steps: 4, strength: 0.1 })).toMatchObject({ exact: false });
    const inpaint = diffusersReproduction(withMeanLogvar, { mode: 'inpaint', seed: 1, steps: 4, strength: 1, latentMask: 'max' });
    expect(inpaint).toMatchObject({ pipeline: 'StableDiffusionInpaintPipeline', latentMask: 'max', exact: false });
  });

  it('LCM img2img names its own pipeline; float16 weights are named; every result passes the recipe validator', () => {
    for (const id of fs.readdirSync(path.join(ROOT, 'models')).filter((f) => f.endsWith('.json') && f !== 'index.json').map((f) => f.replace(/\.json$/, ''))) {
      const ctx = load(id);
      const caps = ctx.manifest.raw.capabilities;
      const mode = caps.txt2img ? 'txt2img' : caps.controlnet !== 'none' ? 'controlnet' : 'inpaint';
      const r = diffusersReproduction(ctx, { mode, seed: 7, steps: 4, strength: 0.75 });
      if (ctx.manifest.dtype === 'float16') expect(r.departures.join(' ')).toMatch(/float16/);
      const stored = recipeValidator.validate({ version: 1, mode: 'generate', prompt: '', negativePrompt: '', seed: 7, steps: 4, guidance: 0, width: 512, height: 512, modelId: id, sourceNodeIds: [], pluginVersion: '0', createdAt: 'x', diffusers: r });
      expect(stored.diffusers, id).toEqual(r);
    }
    expect(diffusersReproduction(load('lcm-dreamshaper-v7'), { mode: 'img2img', seed: 1, steps: 4, strength: 0.5 }).pipeline).toBe('LatentConsistencyModelImg2ImgPipeline');
  });
});
