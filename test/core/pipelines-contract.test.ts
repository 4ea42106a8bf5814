/**
 * Pipeline contract: every bad option is AppError INVALID_INPUT naming the value and range BEFORE any session is
 * acquired; progress is reported per stage and step; aborting between steps gives CANCELLED with every session
 * handed back and every device tensor disposed; sessions are acquired per stage (low-memory friendly).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import { controlNetAsync, imageToImageAsync, inpaintAsync, textToImageAsync } from '../../ui/core/pipelines';
import { createUntouchableSource } from '../helpers/ort-node-source';
import { BASE, LCM, proof, runFor, untouchable } from '../models/pipeline-test-kit';
import { maxDiff, maxDiffFromColour, paintImage, patternImage } from '../models/proof-expect';
import { WORD_COLOURS } from '../models/proof-fixture';
import { fromHalf } from '../../ui/core/tensor-math';

const image = patternImage(64, 64);
const mask = paintImage(64, 64, (x) => (x < 32 ? [255, 255, 255, 255] : [0, 0, 0, 255]));
const control = mask;

async function expectInvalid(run: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const err = await run().then(() => null, (e: unknown) => e);
  expect(err, `expected INVALID_INPUT matching ${pattern}`).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('INVALID_INPUT');
  expect((err as AppError).message).toMatch(pattern);
}

describe('pipeline input checks (before any session)', () => {
  const t2i = untouchable(proof(), createUntouchableSource());
  const cn = untouchable(proof({ controlnet: 'separate' }), createUntouchableSource());

  it('rejects bad prompt, steps, guidance, seed and size, naming the value and the range', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ prompt: '' }, /prompt is empty/],
      [{ prompt: ' \n\t ' }, /prompt is empty/],
      [{ prompt: 42 }, /prompt must be text, got 42/],
      [{ negativePrompt: 7 }, /negative prompt must be text/],
      [{ steps: 0 }, /steps must be a whole number from 1 to 150, got 0/],
      [{ steps: 151 }, /steps .* 1 to 150, got 151/],
      [{ steps: 2.5 }, /steps .*got 2\.5/],
      [{ steps: Number.NaN }, /steps .*got NaN/],
      [{ guidanceScale: -1 }, /guidance scale must be a number from 0 to 50, got -1/],
      [{ guidanceScale: Number.NaN }, /guidance scale .*got NaN/],
      [{ seed: -1 }, /seed must be a whole number from 0 to 18446744073709551615, got -1/],
      [{ seed: 2n ** 64n }, /seed must be a whole number from 0 to 18446744073709551615, got 18446744073709551616/],
      [{ seed: 2 ** 53 }, /seed .*got 9007199254740992/],
      [{ seed: 0.5 }, /seed .*got 0\.5/],
      [{ width: 100 }, /width must be a multiple of 8 from 8 to 512, got 100/],
      [{ height: 60 }, /height must be a multiple of 8 .*got 60/],
      [{ width: 0 }, /width .*got 0/],
      [{ width: Number.NaN }, /width .*got NaN/],
      [{ height: 1024 }, /height .* to 512, got 1024/],
      [{ width: '64' }, /width .*got "64"/],
    ];
    for (const [patch, pattern] of cases) await expectInvalid(() => textToImageAsync(t2i, { ...BASE, ...patch } as never), pattern);
  });

  it('applies the manifest’s size multiple and the scheduler’s step limit (LCM ≤ original_inference_steps)', async () => {
    const m64 = untouchable(proof({ sizeMultiple: 64 }), createUntouchableSource());
    await expectInvalid(() => textToImageAsync(m64, { ...BASE, width: 72 }), /width must be a multiple of 64 .*got 72/);
    const lcm = untouchable(proof({ scheduler: LCM, guidanceEmbeddingDim: 256 }), createUntouchableSource());
    await expectInvalid(() => textToImageAsync(lcm, { ...BASE, steps: 60 }), /60/);
  });

  it('rejects bad strength, images, masks and control scale', async () => {
    await expectInvalid(() => imageToImageAsync(t2i, { ...BASE, image, strength: 1.5 }), /strength must be a number from 0 to 1, got 1\.5/);
    await expectInvalid(() => imageToImageAsync(t2i, { ...BASE, image, strength: -0.1 }), /strength .*got -0\.1/);
    await expectInvalid(() => imageToImageAsync(t2i, { ...BASE, image, strength: Number.NaN }), /strength .*got NaN/);
    const broken = { width: 64, height: 64, data: new Uint8ClampedArray(10) };
    await expectInvalid(() => imageToImageAsync(t2i, { ...BASE, image: broken, strength: 0.5 }), /source image \(64×64\) is not a readable RGBA image/);
    await expectInvalid(() => imageToImageAsync(t2i, { ...BASE, image: null as never, strength: 0.5 }), /source image is not a readable/);
    await expectInvalid(() => inpaintAsync(t2i, { ...BASE, image, mask: broken, strength: 1 }), /mask .*not a readable/);
    await expectInvalid(() => inpaintAsync(t2i, { ...BASE, image, mask: paintImage(64, 32, () => [255, 255, 255, 255]), strength: 1 }), /mask is 64×32 but the image is 64×64/);
    await expectInvalid(() => controlNetAsync(cn, { ...BASE, control, controlScale: 5 }), /control scale must be a number from 0 to 4, got 5/);
    await expectInvalid(() => controlNetAsync(cn, { ...BASE, control, controlScale: Number.NaN }), /control scale .*NaN/);
    await expectInvalid(() => controlNetAsync(cn, { ...BASE, control: broken, controlScale: 1 }), /control image .*not a readable/);
    await expectInvalid(() => controlNetAsync(cn, { ...BASE, prompt: '', control, controlScale: 1 }), /prompt is empty/);
    await expectInvalid(() => inpaintAsync(t2i, { ...BASE, prompt: '', image, mask, strength: 1 }), /prompt is empty/);
  });

  it('rejects tasks the model cannot do', async () => {
    const noEncoder = untouchable(proof({ vaeEncoder: false }), createUntouchableSource());
    await expectInvalid(() => imageToImageAsync(noEncoder, { ...BASE, image, strength: 0.5 }), /cannot edit images/);
    await expectInvalid(() => controlNetAsync(t2i, { ...BASE, control, controlScale: 1 }), /cannot follow a wireframe/);
  });
});

describe('float16 I/O models (WebNN-style exports: fp16 sample, hidden states, timestep and outputs)', () => {
  it('converts feeds to half floats and outputs back: every task still lands on its known answer', async () => {
    const pm = proof({ ioDtype: 'float16', timestepDtype: 'float16', controlnet: 'separate', unet: 'plain' });
    const { ctx, src } = runFor(pm);
    const red = await textToImageAsync(ctx, { ...BASE, steps: 2 });
    expect(maxDiffFromColour(red.image, WORD_COLOURS.red)).toBeLessThanOrEqual(3);
    const feed = src.feeds.unet![0]!;
    expect([feed.sample!.dtype, feed.timestep!.dtype, feed.encoder_hidden_states!.dtype]).toEqual(['float16', 'float16', 'float16']);
    expect(fromHalf((feed.timestep!.data as Uint16Array)[0]!)).toBe(999);
    const edited = await imageToImageAsync(ctx, { ...BASE, image, strength: 1 });
    expect(maxDiffFromColour(edited.image, WORD_COLOURS.red)).toBeLessThanOrEqual(3);
    const ctl = await controlNetAsync(ctx, { ...BASE, control, controlScale: 1 });
    expect(maxDiffFromColour(ctl.image, WORD_COLOURS.red, (x) => x >= 32)).toBeLessThanOrEqual(3);
    expect(maxDiffFromColour(ctl.image, WORD_COLOURS.red, (x) => x < 32)).toBeGreaterThan(40);
    const ninePm = proof({ ioDtype: 'float16', unet: '9ch' });
    const inpainted = await inpaintAsync(runFor(ninePm).ctx, { ...BASE, image, mask, strength: 1 });
    expect(maxDiffFromColour(inpainted.image, WORD_COLOURS.red, (x) => x < 32)).toBeLessThanOrEqual(3);
    expect(maxDiff({ ...inpainted.image, data: inpainted.image.data.slice() }, inpainted.image)).toBe(0);
  });
});

describe('progress, abort and session discipline', () => {
  it('reports text → denoise k/total with previews → decode, and img2img adds encode', async () => {
    const { ctx, progress } = runFor(proof());
    await textToImageAsync(ctx, { ...BASE, steps: 3 });
    expect(progress.map((p) => `${p.stage} ${p.step}/${p.total}${p.preview ? ' +preview' : ''}`)).toEqual([
      'text 0/1', 'text 1/1', 'denoise 1/3 +preview', 'denoise 2/3 +preview', 'denoise 3/3 +preview', 'decode 0/1', 'decode 1/1',
    ]);
    progress.length = 0;
    await imageToImageAsync(ctx, { ...BASE, image, strength: 0.5, steps: 4 });
    expect(progress.map((p) => `${p.stage} ${p.step}/${p.total}`)).toEqual([
      'text 0/1', 'text 1/1', 'encode 0/1', 'encode 1/1', 'denoise 1/2', 'denoise 2/2', 'decode 0/1', 'decode 1/1',
    ]);
  });

  it('acquires each session for its stage only and gives every one back', async () => {
    const { ctx, src } = runFor(proof());
    await imageToImageAsync(ctx, { ...BASE, image, strength: 1 });
    const seq = src.events.filter((e) => e.kind !== 'run').map((e) => `${e.kind} ${e.role}`);
    expect(seq).toEqual([
      'acquire text_encoder', 'done text_encoder', 'acquire vae_encoder', 'done vae_encoder',
      'acquire unet', 'done unet', 'acquire vae_decoder', 'done vae_decoder',
    ]);
  });

  it('aborting between steps throws CANCELLED, runs no further step, releases sessions and disposes device tensors', async () => {
    for (const run of ['t2i', 'inpaint', 'controlnet'] as const) {
      const abort = new AbortController();
      const { ctx, src } = runFor(proof(run === 'controlnet' ? { controlnet: 'separate' } : {}), {
        deviceOutputs: true,
        signal: abort.signal,
        onProgress: (p) => {
          if (p.stage === 'denoise' && p.step === 1) abort.abort();
        },
      });
      const opts = { ...BASE, steps: 4, guidanceScale: 2 };
      const promise = run === 't2i' ? textToImageAsync(ctx, opts)
        : run === 'inpaint' ? inpaintAsync(ctx, { ...opts, image, mask, strength: 1 })
        : controlNetAsync(ctx, { ...opts, control, controlScale: 1 });
      await expect(promise, run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(src.runs('unet'), run).toBe(2); // one step, cond + uncond
      expect(src.runs('vae_decoder'), run).toBe(0);
      expect(src.held(), run).toEqual([]);
      expect(src.undisposed(), run).toBe(0);
    }
  });

  it('an already aborted signal cancels before any session', async () => {
    const abort = new AbortController();
    abort.abort();
    const ctx = { ...untouchable(proof(), createUntouchableSource()), signal: abort.signal };
    await expect(textToImageAsync(ctx, BASE)).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('a failing model run still hands the session back (and reports a clear error)', async () => {
    const { ctx, src } = runFor(proof());
    const broken = { ...ctx, manifest: { ...ctx.manifest, latentChannels: 3 } };
    await expect(textToImageAsync(broken, BASE)).rejects.toThrow();
    expect(src.held()).toEqual([]);
  });
});
