export { textToImageAsync } from './text-to-image';
export { imageToImageAsync } from './image-to-image';
export { inpaintAsync } from './inpaint';
export { controlNetAsync } from './controlnet';
export type * from './types';
