/**
 * Diffusion pipelines, one async function per task (pure core: sessions come from ctx.sessions).
 */
export { textToImageAsync } from './text-to-image';
export { imageToImageAsync } from './image-to-image';
export { inpaintAsync } from './inpaint';
export { controlNetAsync } from './controlnet';
export type * from './types';
