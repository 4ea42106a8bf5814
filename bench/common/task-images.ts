/**
 * Bench inputs from the real reference images (../shared/assets/images): the inpainting photo + its mask and a
 * ControlNet scribble, resized to the bench size. Pure (PNG bytes in).
 */
import { decodePng, resizeBilinear, type RgbaImage } from '../../ui/core/image';
import type { TaskImages } from './pipeline-tasks';

export const IMAGE_FILES = {
  photo: 'overture-creations-5sI6fQgYIuo.png',
  mask: 'overture-creations-5sI6fQgYIuo_mask.png',
  control: 'controlnet_user_1.png',
} as const;

const fit = (img: RgbaImage, side: number): RgbaImage =>
  img.width === side && img.height === side ? img : resizeBilinear(img, side, side);

export function createTaskImages(png: Readonly<Record<keyof typeof IMAGE_FILES, Uint8Array>>, side: number): TaskImages {
  return {
    width: side,
    height: side,
    photo: fit(decodePng(png.photo), side),
    mask: fit(decodePng(png.mask), side),
    control: fit(decodePng(png.control), side),
  };
}
