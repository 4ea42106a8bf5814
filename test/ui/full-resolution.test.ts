/**
 * "Full resolution" for Generate / Edit: the size rule (the layer at 2×, Figma's 4096-px cap, never cropped), the
 * control's plan (size, tiles, time, or why not), the job glue (crop box, recipe) and the store's run with a fake
 * engine (refine progress, insert placement, cancel).
 */
import { describe, expect, it } from 'vitest';
import type { Recipe, SelectionInfo, UiToPlugin } from '../../protocol/messages';
import { recipe as recipeValidator } from '../../protocol/messages';
import { createImage, encodePng } from '../../ui/core/image';
import { cropRect, fullResolutionCost, fullResolutionSize, img2imgSteps, refineTileCount, refineTiling } from '../../ui/core/upscale/full-resolution';
import { formatFactor, planFullResolution } from '../../ui/app/full-resolution';
import { makeRecipe, prepareJob, type JobForm, type JobInputs } from '../../ui/app/job';
import { settingsFromRecipe } from '../../ui/app/recipe-form';
import { createAppStore, type RunState } from '../../ui/app/store';
import { DEFAULT_SETTINGS, parseSettings } from '../../ui/app/settings';
import { createFakeBridge, SELECTIONS } from './fake-bridge';
import { createFakeEngine, type FakeEngineOptions } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

const SD = { default_width: 512, default_height: 512, max_side: 1024, multiple: 64 };
const frame720: SelectionInfo = {
  proposedMode: 'edit', availableModes: ['generate', 'edit', 'wireframe'],
  nodes: [{ id: '1:2', name: 'Hero', type: 'FRAME', width: 720, height: 450 }], hint: "Frame 'Hero' 720×450",
  source: { id: '1:2', name: 'Hero', type: 'FRAME', width: 720, height: 450 },
};

describe('full resolution: sizes', () => {
  it('is the layer at 2× when the picture has its shape, the picture fitted in it otherwise, capped at 4096 px', () => {
    // 720×450 made at 640×384: the part that shows is 614.4×384 (centred) → 1440×900, the layer's own shape.
    expect(fullResolutionSize({ width: 720, height: 450 }, { x: 12.8, y: 0, width: 614.4, height: 384 })).toEqual({ width: 1440, height: 900 });
    // A square picture in a wide layer is shown whole (fitted), so its full resolution is square too.
    expect(fullResolutionSize({ width: 720, height: 450 }, { x: 0, y: 0, width: 512, height: 512 })).toEqual({ width: 900, height: 900 });
    // Nothing selected: the picture at 2×.
    expect(fullResolutionSize(null, { x: 0, y: 0, width: 512, height: 384 })).toEqual({ width: 1024, height: 768 });
    // Figma's cap: 3000×2000 at 2× would be 6000×4000.
    expect(fullResolutionSize({ width: 3000, height: 2000 }, { x: 0, y: 0, width: 768, height: 512 })).toEqual({ width: 4096, height: 2731 });
    expect(cropRect({ x: 12.8, y: 0, width: 614.4, height: 384 }, { width: 640, height: 384 })).toEqual({ x: 13, y: 0, width: 614, height: 384 });
    expect(cropRect({ x: -3, y: -1, width: 700, height: 400 }, { width: 640, height: 384 })).toEqual({ x: 0, y: 0, width: 640, height: 384 });
  });

  it('counts refine tiles and the time a run takes relative to a plain image', () => {
    const t = refineTiling(SD);
    expect(t).toEqual({ tile: 512, overlap: 64, multiple: 64, exact: false });
    expect(refineTiling({ ...SD, fixed: [{ width: 512, height: 512 }] })).toMatchObject({ tile: 512, exact: true });
    expect(refineTileCount({ width: 1440, height: 900 }, t)).toBe(4 * 2);
    expect(refineTileCount({ width: 512, height: 512 }, t)).toBe(1);
    expect(img2imgSteps(4, 0.3)).toBe(1);
    expect(img2imgSteps(20, 0.3)).toBe(6);
    expect(img2imgSteps(20, 0)).toBe(0);
    const c = fullResolutionCost({ working: { width: 640, height: 384 }, target: { width: 1440, height: 900 }, steps: 20, strength: 0.3, tiling: t });
    // base: 21 passes × 640·384; refine: 8 tiles × 8 passes × 512².
    const base = 21 * 640 * 384;
    const refine = 8 * 8 * 512 * 512;
    expect(c.tiles).toBe(8);
    expect(c.factor).toBeCloseTo((base + refine) / base, 6);
    expect(c.refineShare).toBeCloseTo(refine / (base + refine), 6);
    expect(formatFactor(c.factor)).toBe('4.3×');
    expect(formatFactor(12.4)).toBe('12×');
  });
});

describe('full resolution: the control', () => {
  const model = { name: 'Tiny SD', sizes: SD, capabilities: { txt2img: true, img2img: true, inpaint: 'none' as const, controlnet: 'none' as const } };

  it('says the size it makes and what it costs, for Generate and Edit only', () => {
    const gen = planFullResolution({ mode: 'generate', selection: frame720, model, generateSize: { width: 640, height: 384 }, steps: 4 });
    expect(gen).toMatchObject({ available: true, working: { width: 640, height: 384 }, target: { width: 1440, height: 900 }, tiles: 8 });
    expect(gen!.factor!).toBeGreaterThan(2);
    const edit = planFullResolution({ mode: 'edit', selection: frame720, model, generateSize: { width: 512, height: 512 }, steps: 4 });
    expect(edit).toMatchObject({ available: true, target: { width: 1440, height: 900 } });
    expect(planFullResolution({ mode: 'inpaint', selection: frame720, model, generateSize: { width: 512, height: 512 }, steps: 4 })).toBeNull();
    expect(planFullResolution({ mode: 'boost', selection: frame720, model, generateSize: { width: 512, height: 512 }, steps: 4 })).toBeNull();
  });

  it('explains why not: a server model, a model without image-to-image, a layer the model already covers', () => {
    const server = planFullResolution({ mode: 'generate', selection: frame720, model: { ...model, engine: 'comfyui' }, generateSize: { width: 640, height: 384 }, steps: 4 });
    expect(server).toMatchObject({ available: false, reason: expect.stringMatching(/runs on this device/) });
    const noImg2img = planFullResolution({ mode: 'generate', selection: frame720, model: { ...model, capabilities: { ...model.capabilities, img2img: false } }, generateSize: { width: 640, height: 384 }, steps: 4 });
    expect(noImg2img).toMatchObject({ available: false, reason: expect.stringMatching(/Tiny SD can’t refine/) });
    const icon: SelectionInfo = { ...frame720, nodes: [{ id: '1:9', name: 'Icon', type: 'FRAME', width: 128, height: 128 }], source: { id: '1:9', name: 'Icon', type: 'FRAME', width: 128, height: 128 } };
    const small = planFullResolution({ mode: 'edit', selection: icon, model, generateSize: { width: 512, height: 512 }, steps: 4 });
    expect(small).toMatchObject({ available: false, reason: 'Not needed here: the model’s 512×512 already gives this layer twice its pixels.' });
  });

  it('is a saved setting, and a recipe made at full resolution re-runs at full resolution', () => {
    expect(DEFAULT_SETTINGS.fullResolution).toBe(false);
    expect(parseSettings({ fullResolution: true }).fullResolution).toBe(true);
    expect(parseSettings({ fullResolution: 'yes' }).fullResolution).toBe(false);
    const r: Recipe = {
      version: 1, mode: 'generate', prompt: 'p', negativePrompt: '', seed: 1, steps: 1, guidance: 0, width: 640, height: 384, modelId: 'm',
      sourceNodeIds: ['1:2'], pluginVersion: '0', createdAt: 'x', fullResolution: { width: 1440, height: 900, strength: 0.3 },
    };
    expect(settingsFromRecipe(DEFAULT_SETTINGS, r, 'regenerate').settings.fullResolution).toBe(true);
    const plain = { ...r };
    delete plain.fullResolution;
    expect(settingsFromRecipe({ ...DEFAULT_SETTINGS, fullResolution: true }, plain, 'regenerate').settings.fullResolution).toBe(false);
  });
});

describe('full resolution: the job', () => {
  const form: JobForm = {
    mode: 'generate', modelId: 'tiny-sd', prompt: 'a cabin', negativePrompt: '', steps: 4, guidance: 1, strength: 0.5, maskFeather: 0,
    controlType: 'scribble', controlScale: 1, fullResolution: { strength: 0.3 },
  };
  const inputs = (extra: Partial<JobInputs> = {}): JobInputs => ({
    type: 'job-inputs', requestId: 'r', mode: 'generate', width: 640, height: 384,
    placement: { sourceNodeId: '1:2', x: 0, y: 0, width: 720, height: 450, content: { x: 12.8, y: 0, width: 614.4, height: 384 } },
    sourceNodeIds: ['1:2'], notes: [], ...extra,
  } as JobInputs);

  it('asks the engine for the layer at 2× from the part that shows in it, and the recipe records it', () => {
    const job = prepareJob(inputs(), form, createRecordingRasterizer());
    expect(job.request.fullResolution).toEqual({ width: 1440, height: 900, crop: { x: 13, y: 0, width: 614, height: 384 }, strength: 0.3 });
    expect({ w: job.request.width, h: job.request.height }).toEqual({ w: 640, h: 384 });
    const recipe = makeRecipe(job, form, { seed: 5, batchIndex: 0, batchCount: 1, pluginVersion: '0', createdAt: 'x' });
    expect(recipe).toMatchObject({ width: 640, height: 384, fullResolution: { width: 1440, height: 900, strength: 0.3 } });
    expect(() => recipeValidator.validate(recipe)).not.toThrow();
    // Edit too; Inpaint never (the control is not offered there).
    const png = encodePng(createImage(614, 384));
    const edit = prepareJob(inputs({ mode: 'edit', image: { png, width: 614, height: 384 }, placement: { sourceNodeId: '1:2', x: 0, y: 0, width: 720, height: 450, content: { x: 13, y: 0, width: 614, height: 384 } } }), { ...form, mode: 'edit' }, createRecordingRasterizer());
    expect(edit.request.fullResolution).toMatchObject({ width: 1440, height: 900, crop: { x: 13, y: 0, width: 614, height: 384 } });
    // Off: nothing asked.
    const { fullResolution: _, ...plainForm } = form;
    expect(prepareJob(inputs(), plainForm, createRecordingRasterizer()).request.fullResolution).toBeUndefined();
    // A layer the model already covers at 2×: nothing to add.
    const small = inputs({ placement: { sourceNodeId: '1:2', x: 0, y: 0, width: 200, height: 120, content: { x: 0, y: 0, width: 640, height: 384 } } });
    expect(prepareJob(small, form, createRecordingRasterizer()).request.fullResolution).toBeUndefined();
  });
});

async function setup(e: FakeEngineOptions = {}) {
  const bridge = createFakeBridge({ selection: SELECTIONS.frame });
  const engine = createFakeEngine({ stepMs: 5, ...e });
  const store = createAppStore({ bridge, engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 30, tokenDelayMs: 10 });
  await store.startAsync();
  return { bridge, engine, store };
}

describe('full resolution: a run', () => {
  it('Edit at full resolution: refine progress counts in the bar, the image is inserted whole at its size, the recipe says so', async () => {
    const { bridge, engine, store } = await setup();
    store.setMode('edit');
    store.update({ prompt: 'a cabin', fullResolution: true });
    expect(store.fullResolutionOn.value).toBe(true);
    const runs: RunState[] = [];
    const stop = (await import('@preact/signals')).effect(() => { if (store.run.value) runs.push(store.run.value); });
    await store.generateAsync();
    stop();
    expect(store.error.value).toBeNull();
    const req = engine.requests[0]!;
    expect(req.fullResolution).toBeDefined();
    const full = req.fullResolution!;
    const refine = runs.filter((r) => r.stage === 'refine' && r.phase === 'generating');
    expect(refine.map((r) => r.step)).toEqual([1, 2, 3]);
    // The bar keeps moving forward through the refine pass.
    const shares = runs.filter((r) => r.imageShare !== undefined).map((r) => r.imageShare!);
    for (let i = 1; i < shares.length; i++) expect(shares[i]!).toBeGreaterThanOrEqual(shares[i - 1]!);
    expect(shares.at(-1)).toBeCloseTo(1, 6);
    const insert = bridge.sent.find((m): m is Extract<UiToPlugin, { type: 'insert-result' }> => m.type === 'insert-result')!;
    expect({ w: insert.width, h: insert.height }).toEqual({ w: full.width, h: full.height });
    expect(insert.placement.content).toEqual({ x: 0, y: 0, width: full.width, height: full.height });
    expect(insert.recipe.fullResolution).toEqual({ width: full.width, height: full.height, strength: 0.3 });
    expect(store.notice.value).toMatch(new RegExp(`^Inserted the full-resolution image, ${full.width}×${full.height} px \\(seed`));
    store.dispose();
  });

  it('Cancel during the refine pass stops it and inserts nothing', async () => {
    const { bridge, store } = await setup({ stepMs: 20 });
    store.setMode('edit');
    store.update({ prompt: 'a cabin', fullResolution: true });
    const done = store.generateAsync();
    for (const t0 = Date.now(); store.run.value?.stage !== 'refine'; ) {
      if (Date.now() - t0 > 5000) throw new Error('no refine stage');
      await new Promise((r) => setTimeout(r, 2));
    }
    store.cancel();
    await done;
    expect(bridge.sent.some((m) => m.type === 'insert-result')).toBe(false);
    expect(store.notice.value).toBe('Cancelled.');
    expect(store.error.value).toBeNull();
    store.dispose();
  });
});
