import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import { recipe as recipeValidator, type PluginToUi } from '../../protocol/messages';
import { createImage, encodePng, placeOnCanvas } from '../../ui/core/image';
import { makeRecipe, prepareJob, type JobForm, type JobInputs } from '../../ui/app/job';
import { createRecordingRasterizer } from './fake-raster';

const form = (mode: JobForm['mode']): JobForm => ({
  mode, modelId: 'tiny-sd', prompt: 'a cabin', negativePrompt: 'blurry', steps: 8, guidance: 5, strength: 0.5, maskFeather: 6,
  controlType: 'scribble', controlScale: 0.8,
});

function inputs(mode: JobInputs['mode'], extra: Partial<JobInputs> = {}): JobInputs {
  return {
    type: 'job-inputs', requestId: 'r1', mode, width: 128, height: 64,
    placement: { sourceNodeId: '1:2', x: 10, y: 20, width: 256, height: 128, content: { x: 0, y: 0, width: 128, height: 64 } },
    sourceNodeIds: ['1:2'], notes: [], ...extra,
  } as JobInputs;
}

const png = (w: number, h: number) => encodePng(createImage(w, h, [10, 20, 30, 255]));
const path = { d: 'M32 16H96V48H32Z', windingRule: 'NONZERO' as const, kind: 'fill' as const, nodeId: '1:6' };

describe('job glue', () => {
  it('generate: prompt, size and sampler settings only', () => {
    const raster = createRecordingRasterizer();
    const job = prepareJob(inputs('generate'), form('generate'), raster);
    expect(job.request).toEqual({ modelId: 'tiny-sd', mode: 'generate', prompt: 'a cabin', negativePrompt: 'blurry', width: 128, height: 64, steps: 8, guidanceScale: 5 });
    expect(raster.calls).toEqual([]);
  });

  it('edit: decodes the source PNG (resizing it to the working size when needed)', () => {
    const job = prepareJob(inputs('edit', { image: { png: png(64, 32), width: 64, height: 32 } }), form('edit'), createRecordingRasterizer());
    expect(job.request.image?.width).toBe(128);
    expect(job.request.image?.height).toBe(64);
    expect(Array.from(job.request.image!.data.slice(0, 4))).toEqual([10, 20, 30, 255]);
    expect(job.request.strength).toBe(0.5);
  });

  it('edit: pads a source of another shape onto the canvas at its content box, repeating the edge pixels', () => {
    const src = createImage(2, 1);
    src.data.set([10, 0, 0, 255, 20, 0, 0, 255]);
    const content = { x: 1, y: 0, width: 2, height: 1 };
    const ins = inputs('edit', { width: 4, height: 2, image: { png: encodePng(src), width: 2, height: 1 }, placement: { sourceNodeId: '1:2', x: 0, y: 0, width: 20, height: 10, content } });
    const image = prepareJob(ins, form('edit'), createRecordingRasterizer()).request.image!;
    expect({ w: image.width, h: image.height }).toEqual({ w: 4, h: 2 });
    expect(Array.from(image.data.filter((_, i) => i % 4 === 0))).toEqual([10, 10, 20, 20, 10, 10, 20, 20]);
    // A negative offset crops.
    expect(placeOnCanvas(src, 1, 1, -1, 0).data[0]).toBe(20);
  });

  it('inpaint: rasterises the mask at working size with the feather', () => {
    const raster = createRecordingRasterizer();
    const job = prepareJob(inputs('inpaint', { image: { png: png(128, 64), width: 128, height: 64 }, mask: { paths: [path], nodeIds: ['1:6'] } }), form('inpaint'), raster);
    expect(raster.calls).toHaveLength(1);
    expect(raster.calls[0]).toMatchObject({ fn: 'mask', width: 128, height: 64, opts: { feather: 6 } });
    const m = job.request.mask!;
    expect(m.data[(32 * 128 + 64) * 4]).toBe(255);
    expect(m.data[0]).toBe(0);
  });

  it('wireframe: draws the outlines as a line map, line width scaled by type and size', () => {
    const raster = createRecordingRasterizer();
    const job = prepareJob(inputs('wireframe', { width: 1024, height: 512, outlines: { paths: [path], nodeIds: ['1:6'] } }), form('wireframe'), raster);
    expect(raster.calls[0]).toMatchObject({ fn: 'lines', width: 1024, height: 512, opts: { lineWidth: 10 } });
    expect(job.request.controlScale).toBe(0.8);
    expect(job.request.controlType).toBe('scribble');
  });

  it('says plainly what is missing', () => {
    const r = createRecordingRasterizer();
    const attempt = (f: () => unknown) => { try { f(); } catch (e) { return e; } return null; };
    const e1 = attempt(() => prepareJob(inputs('inpaint', { image: { png: png(128, 64), width: 128, height: 64 } }), form('inpaint'), r));
    expect(e1).toBeInstanceOf(AppError);
    expect((e1 as AppError).code).toBe('INVALID_SELECTION');
    expect((e1 as AppError).message).toMatch(/mask shape/);
    const e2 = attempt(() => prepareJob(inputs('edit'), form('edit'), r));
    expect((e2 as AppError).code).toBe('INVALID_SELECTION');
    const e3 = attempt(() => prepareJob(inputs('edit', { image: { png: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9]), width: 8, height: 8 } }), form('edit'), r));
    expect((e3 as AppError).code).toBe('IMAGE_DECODE_FAILED');
    const e4 = attempt(() => prepareJob(inputs('edit'), form('inpaint'), r));
    expect((e4 as AppError).code).toBe('INVALID_MESSAGE');
  });

  it('makes recipes that pass the protocol validator and keep what re-running needs', () => {
    const r = createRecordingRasterizer();
    const ins = inputs('inpaint', { image: { png: png(128, 64), width: 128, height: 64 }, mask: { paths: [path], nodeIds: ['1:6'] } });
    const job = prepareJob(ins, form('inpaint'), r);
    const recipe = makeRecipe(job, form('inpaint'), { seed: 5, batchIndex: 1, batchCount: 2, pluginVersion: '0.1.0', createdAt: '2026-01-01T00:00:00.000Z' });
    expect(recipeValidator.validate(recipe)).toEqual(recipe);
    expect(recipe).toMatchObject({ mode: 'inpaint', seed: 5, strength: 0.5, maskFeather: 6, maskNodeIds: ['1:6'], sourceNodeIds: ['1:2'], width: 128, height: 64 });
    const wf = makeRecipe(prepareJob(inputs('wireframe', { outlines: { paths: [path], nodeIds: ['2:2'] } }), form('wireframe'), r), form('wireframe'),
      { seed: 1, batchIndex: 0, batchCount: 1, pluginVersion: '0.1.0', createdAt: 'x' });
    expect(wf).toMatchObject({ controlType: 'scribble', controlScale: 0.8, outlineNodeIds: ['2:2'] });
    expect('strength' in wf).toBe(false);
  });

  it('stores how to reproduce a local image with diffusers (pipeline, scheduler, exact seed, conventions)', () => {
    const r = createRecordingRasterizer();
    const job = prepareJob(inputs('inpaint', { image: { png: png(128, 64), width: 128, height: 64 }, mask: { paths: [path], nodeIds: ['1:6'] } }), form('inpaint'), r);
    const reproduce = {
      pipeline: 'StableDiffusionInpaintPipeline', source: 'org/repo', revision: 'ace89b7d2cd849f9a73914cdbb8a3ea60c853dd1',
      scheduler: { _class_name: 'EulerDiscreteScheduler', num_train_timesteps: 1000, timestep_spacing: 'leading', steps_offset: 1 },
      seed: '18446744073709551615', generator: 'cpu' as const, encoder: 'diffusers' as const, latentMask: 'nearest' as const, exact: true,
      departures: ['outside the mask the original pixels are kept (soft-mask composite); compare inside the mask'],
    };
    const recipe = makeRecipe(job, form('inpaint'), { seed: 5, batchIndex: 0, batchCount: 1, pluginVersion: '0.1.0', createdAt: 'x', reproduce });
    expect(recipe.diffusers).toEqual(reproduce);
    expect(recipeValidator.validate(JSON.parse(JSON.stringify(recipe)))).toEqual(recipe);
    // A server-made image does not claim a local diffusers recipe.
    const remote = makeRecipe(job, form('inpaint'), { seed: 5, batchIndex: 0, batchCount: 1, pluginVersion: '0.1.0', createdAt: 'x', reproduce, provenance: { engine: 'comfyui', models: ['m.safetensors'] } });
    expect(remote.diffusers).toBeUndefined();
    expect(() => recipeValidator.validate({ ...recipe, diffusers: { ...reproduce, seed: '18446744073709551616' } })).toThrow(/seed below 2\^64/);
  });
});

describe('core rasteriser glue', () => {
  it('rasterises a mask and a line map as RgbaImages at working size', async () => {
    const { coreRasterizer } = await import('../../ui/app/job');
    const mask = coreRasterizer.rasterizeMask([path], 128, 64, { feather: 0 });
    expect([mask.width, mask.height, mask.data.length]).toEqual([128, 64, 128 * 64 * 4]);
    expect(mask.data[(32 * 128 + 64) * 4]).toBe(255);
    expect(mask.data[(2 * 128 + 2) * 4]).toBe(0);
    const lines = coreRasterizer.drawLineMap([path], 128, 64, { lineWidth: 2 });
    expect(lines.data[(32 * 128 + 32) * 4]).toBe(255); // on the left edge x = 32
    expect(lines.data[(32 * 128 + 64) * 4]).toBe(0); // inside the box
  });
});
