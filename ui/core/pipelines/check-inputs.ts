/**
 * Validates every option before any model runs (as diffusers' check_inputs): each error is AppError INVALID_INPUT
 * naming the value and the allowed range. Pure; never touches a session.
 */
import { AppError } from '../../../protocol/errors';
import { isRgbaImage, type RgbaImage } from '../image';
import type { ModelManifest } from '../manifest';
import { isValidSeed, MAX_SEED } from '../rng/torch-generator';
import { createScheduler, type Scheduler } from '../schedulers';
import type { BaseOptions } from './types';

export const MAX_STEPS = 150;
export const MAX_GUIDANCE = 50;
export const MAX_CONTROL_SCALE = 4;

const bad = (message: string, hint?: string): never => {
  throw new AppError('INVALID_INPUT', message, hint ? { hint } : {});
};

const show = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' || typeof v === 'boolean' || v == null ? String(v) : typeof v);

/** A finite number in [min, max] (integer when asked), else INVALID_INPUT naming it. */
export function checkNumber(name: string, value: unknown, min: number, max: number, integer = false): number {
  const kind = integer ? 'a whole number' : 'a number';
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    bad(`${name} must be ${kind} from ${min} to ${max}, got ${show(value)}.`);
  }
  return value as number;
}

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * Prompt, steps, guidance, seed and size. Returns the scheduler for `steps` (created here so a scheduler-specific
 * limit, e.g. LCM's original_inference_steps, is also reported before any model runs).
 */
export function checkBaseOptions(o: BaseOptions, manifest: ModelManifest, opts: { promptRequired: boolean }): Scheduler {
  if (!o || typeof o !== 'object') bad('options must be an object.');
  if (typeof o.prompt !== 'string') bad(`prompt must be text, got ${show(o.prompt)}.`);
  if (opts.promptRequired && o.prompt.trim() === '') {
    bad('The prompt is empty. Describe the image you want.', 'Type a prompt, e.g. "a cosy cabin in the snow, golden hour".');
  }
  if (o.negativePrompt !== undefined && typeof o.negativePrompt !== 'string') bad(`negative prompt must be text, got ${show(o.negativePrompt)}.`);
  const steps = checkNumber('steps', o.steps, 1, MAX_STEPS, true);
  checkNumber('guidance scale', o.guidanceScale, 0, MAX_GUIDANCE);
  if (!isValidSeed(o.seed)) bad(`seed must be a whole number from 0 to ${MAX_SEED}, got ${typeof o.seed === 'bigint' ? String(o.seed) : show(o.seed)}.`);
  const sizes = manifest.raw.sizes;
  const f = manifest.vaeScale;
  const multiple = (f * sizes.multiple) / gcd(f, sizes.multiple);
  for (const [name, v] of [['width', o.width], ['height', o.height]] as const) {
    const x = checkNumber(name, v, multiple, sizes.max_side, true);
    if (x % multiple !== 0) bad(`${name} must be a multiple of ${multiple} from ${multiple} to ${sizes.max_side}, got ${x}.`);
  }
  if (sizes.fixed && !sizes.fixed.some((s) => s.width === o.width && s.height === o.height)) {
    bad(`${manifest.name} only runs at ${sizes.fixed.map((s) => `${s.width}×${s.height}`).join(', ')}; got ${o.width}×${o.height}.`);
  }
  return createScheduler(manifest.scheduler, steps);
}

/** Strength in [0, 1]. */
export const checkStrength = (strength: unknown): number => checkNumber('strength', strength, 0, 1);

/** ControlNet conditioning scale in [0, 4]. */
export const checkControlScale = (scale: unknown): number => checkNumber('control scale', scale, 0, MAX_CONTROL_SCALE);

/** A well-formed RgbaImage (any size; pipelines resize to the working size). */
export function checkImage(name: string, image: unknown): RgbaImage {
  if (!isRgbaImage(image)) {
    const size = image && typeof image === 'object' ? ` (${show((image as RgbaImage).width)}×${show((image as RgbaImage).height)})` : '';
    bad(`The ${name}${size} is not a readable RGBA image: it needs a positive whole width and height and width × height × 4 bytes.`);
  }
  return image as RgbaImage;
}

/** The mask must have the image's size. */
export function checkMaskSize(mask: RgbaImage, image: RgbaImage): void {
  if (mask.width !== image.width || mask.height !== image.height) {
    bad(`The mask is ${mask.width}×${mask.height} but the image is ${image.width}×${image.height}; they must be the same size.`);
  }
}

/** The model must be able to do the task. */
export function checkCapability(manifest: ModelManifest, task: 'img2img' | 'inpaint' | 'controlnet'): void {
  const caps = manifest.raw.capabilities;
  const ok = task === 'img2img' ? caps.img2img && !!manifest.components.vae_encoder
    : task === 'inpaint' ? caps.inpaint !== 'none' && !!manifest.components.vae_encoder
    : caps.controlnet !== 'none' && (caps.controlnet_fused === true || !!manifest.components.controlnet);
  const what = { img2img: 'edit images', inpaint: 'inpaint', controlnet: 'follow a wireframe (no ControlNet)' }[task];
  if (!ok) bad(`${manifest.name} cannot ${what}.`, 'Pick a model that supports this mode.');
}
