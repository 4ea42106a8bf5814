/**
 * Validates every option before any model runs (as diffusers' check_inputs): each error names the value and the
 * allowed range. Throws AppError('INVALID_INPUT').
 */
import { AppError } from '../../../protocol/errors';
import type { ModelManifest } from '../manifest';
import type { RgbaImage } from '../image';
import type { BaseOptions } from './types';

const bad = (message: string, hint?: string): never => {
  throw new AppError('INVALID_INPUT', message, hint ? { hint } : {});
};

function finite(name: string, value: unknown): number {
  if (typeof value !== 'number' || Number.isNaN(value) || !Number.isFinite(value)) {
    bad(`${name} must be a finite number, got ${String(value)}.`);
  }
  return value as number;
}

export function checkBaseOptions(o: BaseOptions, manifest: ModelManifest, opts: { promptRequired: boolean }): void {
  if (typeof o.prompt !== 'string') bad(`prompt must be text, got ${typeof o.prompt}.`);
  if (opts.promptRequired && o.prompt.trim() === '') bad('The prompt is empty. Describe the image you want.', 'Type a prompt, e.g. "a cosy cabin in the snow, golden hour".');
  if (o.negativePrompt !== undefined && typeof o.negativePrompt !== 'string') bad('negative prompt must be text.');
  const steps = finite('steps', o.steps);
  if (!Number.isInteger(steps) || steps < 1 || steps > 150) bad(`steps must be an integer from 1 to 150, got ${steps}.`);
  const g = finite('guidance', o.guidanceScale);
  if (g < 0 || g > 50) bad(`guidance must be between 0 and 50, got ${g}.`);
  const seed = finite('seed', o.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed > Number.MAX_SAFE_INTEGER) bad(`seed must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}, got ${seed}.`);
  const multiple = manifest.vaeScale;
  for (const [name, v] of [['width', o.width], ['height', o.height]] as const) {
    const x = finite(name, v);
    if (!Number.isInteger(x) || x < multiple || x % multiple !== 0) bad(`${name} must be a positive multiple of ${multiple}, got ${x}.`);
    if (x > manifest.raw.sizes.max_side) bad(`${name} must be at most ${manifest.raw.sizes.max_side} for ${manifest.name}, got ${x}.`);
  }
  if (manifest.id.startsWith('lcm') || manifest.scheduler._class_name === 'LCMScheduler') {
    const max = manifest.scheduler.original_inference_steps ?? 50;
    if (steps > max) bad(`steps must be at most ${max} for ${manifest.name}, got ${steps}.`);
  }
}

export function checkStrength(strength: unknown): void {
  const s = finite('strength', strength);
  if (s < 0 || s > 1) bad(`strength must be between 0 and 1, got ${s}.`);
}

export function checkImage(name: string, image: RgbaImage | undefined, width: number, height: number): void {
  if (!image || !(image.data instanceof Uint8ClampedArray) || image.data.length !== image.width * image.height * 4) {
    throw new AppError('IMAGE_DECODE_FAILED', `The ${name} is not a decodable image.`);
  }
  if (image.width !== width || image.height !== height) {
    bad(`The ${name} is ${image.width}×${image.height}; it must be ${width}×${height} (the working size).`);
  }
}

export function checkControlScale(scale: unknown): void {
  const s = finite('control scale', scale);
  if (s < 0 || s > 4) bad(`control scale must be between 0 and 4, got ${s}.`);
}
