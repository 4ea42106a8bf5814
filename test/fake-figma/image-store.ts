/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * figma.createImage / getImageByHash for the fake: validates the bytes like Figma (PNG, JPEG or GIF only, at most
 * 4096 px per side, "Invalid images will throw an error"), hashes them (SHA-1 hex, as Figma's imageHash), keeps a
 * copy, and decodes PNGs for rendering. JPEG/GIF are accepted and sized from their headers but render as a grey
 * checkerboard (no pure-JS decoder here).
 */
import { decodePng, type RgbaImage } from '../../ui/core/image';
import { sha1Hex } from './sha1';

export const FIGMA_MAX_IMAGE_SIDE = 4096;

export type ImageFormat = 'PNG' | 'JPEG' | 'GIF';

export interface StoredImage {
  readonly hash: string;
  readonly bytes: Uint8Array;
  readonly format: ImageFormat;
  readonly width: number;
  readonly height: number;
}

const be32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Format and pixel size from the file header, or an Error describing why the bytes are not an image. */
export function readImageHeader(bytes: Uint8Array): { format: ImageFormat; width: number; height: number } {
  const b = bytes;
  if (b.length >= 24 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47 && b[4] === 0x0d && b[5] === 0x0a && b[6] === 0x1a && b[7] === 0x0a) {
    return { format: 'PNG', width: be32(b, 16), height: be32(b, 20) };
  }
  if (b.length >= 10 && b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x38 && (b[4] === 0x37 || b[4] === 0x39) && b[5] === 0x61) {
    return { format: 'GIF', width: b[6]! | (b[7]! << 8), height: b[8]! | (b[9]! << 8) };
  }
  if (b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) {
    let o = 2;
    while (o + 9 < b.length) {
      if (b[o] !== 0xff) { o++; continue; }
      const marker = b[o + 1]!;
      if (marker === 0xff) { o++; continue; }
      if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) { o += 2; continue; }
      const len = (b[o + 2]! << 8) | b[o + 3]!;
      const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
      if (isSof) return { format: 'JPEG', height: (b[o + 5]! << 8) | b[o + 6]!, width: (b[o + 7]! << 8) | b[o + 8]! };
      o += 2 + len;
    }
    throw new Error('Image type is unsupported: the JPEG has no frame header');
  }
  throw new Error('Image type is unsupported: expected PNG, JPEG or GIF bytes');
}

export interface ImageStore {
  /** figma.createImage semantics; throws like Figma on invalid or too large images. */
  add(bytes: Uint8Array): StoredImage;
  get(hash: string): StoredImage | undefined;
  /** Decoded pixels for rendering (cached). */
  pixels(hash: string): RgbaImage | undefined;
  readonly all: ReadonlyMap<string, StoredImage>;
}

function checkerboard(width: number, height: number): RgbaImage {
  const w = Math.max(1, Math.min(width, 512));
  const h = Math.max(1, Math.min(height, 512));
  const data = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = ((x >> 4) + (y >> 4)) % 2 ? 200 : 160;
      data.set([v, v, v, 255], (y * w + x) * 4);
    }
  }
  return { width: w, height: h, data };
}

/** Decoded pixels by hash, shared by all stores (a hash names the bytes, so this is a pure cache). */
const decodeCache = new Map<string, RgbaImage>();
const DECODE_CACHE_ENTRIES = 8;

function decodeCached(hash: string, bytes: Uint8Array): RgbaImage {
  const hit = decodeCache.get(hash);
  if (hit) return hit;
  const px = decodePng(bytes);
  decodeCache.set(hash, px);
  if (decodeCache.size > DECODE_CACHE_ENTRIES) decodeCache.delete(decodeCache.keys().next().value!);
  return px;
}

export function createImageStore(): ImageStore {
  const images = new Map<string, StoredImage>();
  const decoded = new Map<string, RgbaImage>();
  return {
    add(bytes) {
      if (!(bytes instanceof Uint8Array)) throw new Error('in createImage: Expected a Uint8Array of PNG, JPEG or GIF bytes');
      const head = readImageHeader(bytes);
      if (head.width < 1 || head.height < 1) throw new Error(`in createImage: Image is invalid (size ${head.width}×${head.height})`);
      if (head.width > FIGMA_MAX_IMAGE_SIDE || head.height > FIGMA_MAX_IMAGE_SIDE) {
        throw new Error(`in createImage: Image is too large (${head.width}×${head.height}; the maximum is ${FIGMA_MAX_IMAGE_SIDE} px per side)`);
      }
      const hash = sha1Hex(bytes);
      const existing = images.get(hash);
      if (existing) return existing;
      if (head.format === 'PNG') {
        let px: RgbaImage;
        try {
          px = decodeCached(hash, bytes);
        } catch (err) {
          throw new Error(`in createImage: Image is invalid (${err instanceof Error ? err.message : String(err)})`);
        }
        decoded.set(hash, px);
      }
      const stored: StoredImage = { hash, bytes: bytes.slice(), format: head.format, width: head.width, height: head.height };
      images.set(hash, stored);
      return stored;
    },
    get: (hash) => images.get(hash),
    pixels(hash) {
      const img = images.get(hash);
      if (!img) return undefined;
      let px = decoded.get(hash);
      if (!px) {
        px = checkerboard(img.width, img.height);
        decoded.set(hash, px);
      }
      return px;
    },
    all: images,
  };
}
