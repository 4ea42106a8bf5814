/**
 * Diffusion pipelines, one async function per task (pure core: sessions come from ctx.sessions).
 */
export { textToImageAsync } from './text-to-image';
export { imageToImageAsync } from './image-to-image';
export { inpaintAsync } from './inpaint';
export { controlNetAsync } from './controlnet';
export type * from './types';
export { diffusersReproduction, type DiffusersReproduction, type ReproductionArgs } from './reproduce';
export type { EncodeConvention } from './common';
