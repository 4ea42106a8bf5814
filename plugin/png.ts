/**
 * A small PNG reader/writer for the main thread (pure JS on fflate's zlib; no TextEncoder, no DOM — the Figma
 * sandbox has neither). Used to pad/crop the exported source onto the working canvas and to read PNG sizes.
 * RGBA8 only on output; input: 8/16-bit grey, grey+alpha, RGB, RGBA and palette, non-interlaced.
 */
import { unzlibSync, zlibSync } from 'fflate';
import { AppError } from '../protocol/errors';

export interface Rgba {
  readonly width: number;
  readonly height: number;
  /** RGBA8, row-major. */
  readonly data: Uint8Array;
}

const SIGNATURE = [137, 80, 78, 71, 13, 10, 26, 10];

const bad = (why: string): AppError =>
  new AppError('IMAGE_DECODE_FAILED', `The image is not a readable PNG (${why}).`, { hint: 'Try again; if it repeats, export the layer as PNG to check it.' });

const u32 = (b: Uint8Array, o: number): number => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;

/** Width and height from the IHDR chunk, without decoding. Throws AppError IMAGE_DECODE_FAILED for non-PNG bytes. */
export function readPngSize(bytes: Uint8Array): { width: number; height: number } {
  if (bytes.length < 33) throw bad(`only ${bytes.length} bytes`);
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) throw bad('no PNG signature');
  if (String.fromCharCode(bytes[12]!, bytes[13]!, bytes[14]!, bytes[15]!) !== 'IHDR') throw bad('no IHDR chunk');
  const width = u32(bytes, 16);
  const height = u32(bytes, 20);
  if (width === 0 || height === 0) throw bad(`size ${width}×${height}`);
  return { width, height };
}

/** Decodes a PNG into RGBA8. */
export function decodePng(bytes: Uint8Array): Rgba {
  const { width, height } = readPngSize(bytes);
  const depth = bytes[24]!;
  const colorType = bytes[25]!;
  const interlace = bytes[28]!;
  if (interlace !== 0) throw bad('interlaced PNGs are not supported');
  const channels = ({ 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 } as Record<number, number>)[colorType];
  if (channels === undefined) throw bad(`colour type ${colorType}`);
  if (!(depth === 8 || depth === 16 || (colorType === 3 && depth <= 8) || (colorType === 0 && depth < 8))) throw bad(`bit depth ${depth}`);
  const idat: Uint8Array[] = [];
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  let o = 8;
  while (o + 8 <= bytes.length) {
    const len = u32(bytes, o);
    const type = String.fromCharCode(bytes[o + 4]!, bytes[o + 5]!, bytes[o + 6]!, bytes[o + 7]!);
    const body = bytes.subarray(o + 8, o + 8 + len);
    if (type === 'IDAT') idat.push(body);
    else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') trns = body;
    else if (type === 'IEND') break;
    o += 12 + len;
  }
  if (idat.length === 0) throw bad('no image data');
  const total = idat.reduce((n, c) => n + c.length, 0);
  const packed = new Uint8Array(total);
  let p = 0;
  for (const c of idat) {
    packed.set(c, p);
    p += c.length;
  }
  let raw: Uint8Array;
  try {
    raw = unzlibSync(packed);
  } catch (err) {
    throw bad(`broken compressed data: ${err instanceof Error ? err.message : String(err)}`);
  }
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const stride = Math.ceil((width * bitsPerPixel) / 8);
  if (raw.length < height * (stride + 1)) throw bad('truncated image data');
  const lines = new Uint8Array(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const src = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    const out = lines.subarray(y * stride, (y + 1) * stride);
    const prev = y > 0 ? lines.subarray((y - 1) * stride, y * stride) : null;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? out[i - bpp]! : 0;
      const b = prev ? prev[i]! : 0;
      const c = prev && i >= bpp ? prev[i - bpp]! : 0;
      let v = src[i]!;
      switch (filter) {
        case 0: break;
        case 1: v += a; break;
        case 2: v += b; break;
        case 3: v += (a + b) >> 1; break;
        case 4: {
          const pa = Math.abs(b - c), pb = Math.abs(a - c), pc = Math.abs(a + b - 2 * c);
          v += pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
          break;
        }
        default: throw bad(`filter type ${filter}`);
      }
      out[i] = v & 255;
    }
  }
  const data = new Uint8Array(width * height * 4);
  const sample = (row: number, index: number): number => {
    // index-th sample of the row, scaled to 8 bits
    const base = row * stride;
    if (depth === 8) return lines[base + index]!;
    if (depth === 16) return lines[base + index * 2]!;
    const bit = index * depth;
    const byte = lines[base + (bit >> 3)]!;
    const v = (byte >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
    return colorType === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
  };
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y * width + x) * 4;
      const s = x * channels;
      if (colorType === 3) {
        const idx = sample(y, x);
        if (!palette || idx * 3 + 2 >= palette.length) throw bad('palette index out of range');
        data[q] = palette[idx * 3]!; data[q + 1] = palette[idx * 3 + 1]!; data[q + 2] = palette[idx * 3 + 2]!;
        data[q + 3] = trns && idx < trns.length ? trns[idx]! : 255;
      } else if (channels <= 2) {
        const g = sample(y, s);
        data[q] = g; data[q + 1] = g; data[q + 2] = g;
        data[q + 3] = channels === 2 ? sample(y, s + 1) : 255;
      } else {
        data[q] = sample(y, s); data[q + 1] = sample(y, s + 1); data[q + 2] = sample(y, s + 2);
        data[q + 3] = channels === 4 ? sample(y, s + 3) : 255;
      }
    }
  }
  return { width, height, data };
}

let crcTable: Uint32Array | null = null;
function crc32(parts: readonly Uint8Array[]): number {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (const part of parts) for (let i = 0; i < part.length; i++) crc = crcTable[(crc ^ part[i]!) & 255]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + body.length);
  const tag = new Uint8Array([type.charCodeAt(0), type.charCodeAt(1), type.charCodeAt(2), type.charCodeAt(3)]);
  const view = new DataView(out.buffer);
  view.setUint32(0, body.length);
  out.set(tag, 4);
  out.set(body, 8);
  view.setUint32(8 + body.length, crc32([tag, body]));
  return out;
}

/** Encodes RGBA8 as a PNG (filter "Up" on every row, zlib level 4). */
export function encodePng(image: Rgba): Uint8Array {
  const { width, height, data } = image;
  const stride = width * 4;
  const raw = new Uint8Array(height * (stride + 1));
  for (let y = 0; y < height; y++) {
    raw[y * (stride + 1)] = 2;
    const row = y * stride;
    for (let i = 0; i < stride; i++) raw[y * (stride + 1) + 1 + i] = (data[row + i]! - (y > 0 ? data[row - stride + i]! : 0)) & 255;
  }
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, width);
  v.setUint32(4, height);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  const parts = [new Uint8Array(SIGNATURE), chunk('IHDR', ihdr), chunk('IDAT', zlibSync(raw, { level: 4 })), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, x) => n + x.length, 0));
  let o = 0;
  for (const x of parts) {
    out.set(x, o);
    o += x.length;
  }
  return out;
}

/**
 * Puts `image` onto a `width`×`height` canvas with its top-left at (`left`, `top`) (negative = cropped), filling
 * the padding by repeating the nearest edge pixel (so the model sees no hard border it would try to continue).
 */
export function placeOnCanvas(image: Rgba, width: number, height: number, left: number, top: number): Rgba {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const sy = Math.min(image.height - 1, Math.max(0, y - top));
    for (let x = 0; x < width; x++) {
      const sx = Math.min(image.width - 1, Math.max(0, x - left));
      const s = (sy * image.width + sx) * 4;
      const d = (y * width + x) * 4;
      data[d] = image.data[s]!; data[d + 1] = image.data[s + 1]!; data[d + 2] = image.data[s + 2]!; data[d + 3] = image.data[s + 3]!;
    }
  }
  return { width, height, data };
}
