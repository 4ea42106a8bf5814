/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * The harness's sample document, built through the public figma API only (so it also exercises the fake):
 * a photo hero, a photo card with a shape to inpaint, a Figma mask, a landing-page wireframe made of vectors /
 * rectangles / text, a plain rectangle and a text layer. Photos are procedural (deterministic, no assets).
 */
import { encodePng } from '../../ui/core/image';
import { createCanvas, fillPath } from '../../ui/core/raster/canvas';
import { hostOf } from './create-fake-figma';

export interface DemoIds {
  readonly page: string;
  /** Frame "Hero" 720×450 at (0, 0) with a landscape image fill (FILL). */
  readonly hero: string;
  /** Frame "Photo card" 400×300 at (780, 0), clipsContent, corner radius 12. */
  readonly photoCard: string;
  /** Rectangle "Photo" filling the card, still-life image fill. */
  readonly photo: string;
  /** Ellipse "Blemish" 90×90 at (250, 90) inside the card: the shape to inpaint. */
  readonly blemish: string;
  /** Frame "Masked photo" 300×300 at (1240, 0). */
  readonly maskFrame: string;
  /** Group "Mask group" = [Ellipse "Mask" (isMask), Rectangle "Masked image"]. */
  readonly maskGroup: string;
  readonly mask: string;
  readonly maskedImage: string;
  /** Frame "Wireframe" 720×450 at (0, 510): a landing-page wireframe. */
  readonly wireframe: string;
  /** Vector "Image X" (two diagonals) inside the wireframe's image placeholder. */
  readonly wireframeX: string;
  /** Rectangle "Rectangle" 200×120 at (780, 360), solid blue. */
  readonly rectangle: string;
  /** Text "Caption" at (780, 510). */
  readonly text: string;
  /** Image hashes of the two procedural photos. */
  readonly landscapeHash: string;
  readonly stillLifeHash: string;
}

/** Deterministic hash noise in [0, 1). */
function hash2(x: number, y: number, seed: number): number {
  let h = (x * 374761393 + y * 668265263 + seed * 982451653) | 0;
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

function valueNoise(x: number, y: number, seed: number): number {
  const xi = Math.floor(x), yi = Math.floor(y);
  const fx = x - xi, fy = y - yi;
  const sx = fx * fx * (3 - 2 * fx), sy = fy * fy * (3 - 2 * fy);
  const a = hash2(xi, yi, seed), b = hash2(xi + 1, yi, seed), c = hash2(xi, yi + 1, seed), d = hash2(xi + 1, yi + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

const fbm = (x: number, y: number, seed: number): number =>
  valueNoise(x, y, seed) * 0.57 + valueNoise(x * 2, y * 2, seed + 1) * 0.29 + valueNoise(x * 4, y * 4, seed + 2) * 0.14;

function ridge(width: number, height: number, base: number, amp: number, freq: number, seed: number): string {
  let d = `M 0 ${height}`;
  for (let x = 0; x <= width; x += 4) {
    const y = base - amp * fbm(x * freq, 0.5, seed) * 2;
    d += ` L ${x} ${y.toFixed(2)}`;
  }
  return `${d} L ${width} ${height} Z`;
}

/**
 * A photo-like PNG: 'landscape' (sky gradient, sun, layered hills, grass texture) or 'still-life' (warm wall,
 * table, fruit and a box). Deterministic for a given (kind, width, height, seed).
 */
export function makePhotoPng(kind: 'landscape' | 'still-life', width: number, height: number, seed = 1): Uint8Array {
  const key = `${kind}:${width}:${height}:${seed}`;
  let png = photoCache.get(key);
  if (!png) {
    png = renderPhotoPng(kind, width, height, seed);
    photoCache.set(key, png);
  }
  return png.slice();
}

/** Generated photos are pure functions of their arguments; cached so fixtures stay fast. */
const photoCache = new Map<string, Uint8Array>();

function renderPhotoPng(kind: 'landscape' | 'still-life', width: number, height: number, seed: number): Uint8Array {
  const c = createCanvas(width, height, [0, 0, 0, 255]);
  const d = c.data;
  if (kind === 'landscape') {
    const sunX = width * 0.7, sunY = height * 0.3, sunR = height * 0.08;
    for (let y = 0; y < height; y++) {
      const t = y / height;
      for (let x = 0; x < width; x++) {
        const glow = Math.exp(-((x - sunX) ** 2 + (y - sunY) ** 2) / (2 * (height * 0.2) ** 2));
        const cloud = Math.max(0, fbm(x / 140, y / 60, seed) - 0.5) * 1.6 * (1 - t);
        const o = (y * width + x) * 4;
        d[o] = 70 + 150 * t + 120 * glow + 160 * cloud;
        d[o + 1] = 130 + 90 * t + 90 * glow + 160 * cloud;
        d[o + 2] = 220 - 20 * t + 20 * glow + 150 * cloud;
        if (Math.hypot(x - sunX, y - sunY) < sunR) {
          d[o] = 255; d[o + 1] = 240; d[o + 2] = 200;
        }
      }
    }
    fillPath(c, ridge(width, height, height * 0.62, height * 0.22, 0.004, seed + 10), [96, 110, 150, 255]);
    fillPath(c, ridge(width, height, height * 0.72, height * 0.16, 0.007, seed + 20), [60, 110, 80, 255]);
    fillPath(c, ridge(width, height, height * 0.84, height * 0.08, 0.012, seed + 30), [70, 140, 60, 255]);
    for (let y = Math.floor(height * 0.6); y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        if (d[o + 1]! > d[o + 2]!) {
          const n = (fbm(x / 6, y / 3, seed + 40) - 0.5) * 50;
          d[o] = d[o]! + n; d[o + 1] = d[o + 1]! + n; d[o + 2] = d[o + 2]! + n * 0.5;
        }
      }
    }
  } else {
    const tableY = height * 0.62;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        const o = (y * width + x) * 4;
        const n = (fbm(x / 80, y / 80, seed) - 0.5) * 30;
        if (y < tableY) {
          const light = Math.exp(-((x - width * 0.35) ** 2) / (2 * (width * 0.4) ** 2));
          d[o] = 170 + 60 * light + n; d[o + 1] = 140 + 50 * light + n; d[o + 2] = 110 + 30 * light + n;
        } else {
          const grain = (fbm(x / 200, y / 4, seed + 5) - 0.5) * 60;
          d[o] = 120 + grain; d[o + 1] = 78 + grain * 0.7; d[o + 2] = 48 + grain * 0.4;
        }
      }
    }
    const s = width / 800;
    const ellipse = (cx: number, cy: number, rx: number, ry: number): string =>
      `M ${cx - rx} ${cy} A ${rx} ${ry} 0 1 0 ${cx + rx} ${cy} A ${rx} ${ry} 0 1 0 ${cx - rx} ${cy} Z`;
    fillPath(c, ellipse(330 * s, tableY + 18 * s, 120 * s, 16 * s), [60, 38, 25, 120]);
    fillPath(c, `M ${150 * s} ${tableY - 150 * s} L ${330 * s} ${tableY - 150 * s} L ${330 * s} ${tableY + 10 * s} L ${150 * s} ${tableY + 10 * s} Z`, [40, 90, 150, 255]);
    fillPath(c, `M ${150 * s} ${tableY - 150 * s} L ${190 * s} ${tableY - 185 * s} L ${370 * s} ${tableY - 185 * s} L ${330 * s} ${tableY - 150 * s} Z`, [70, 130, 190, 255]);
    fillPath(c, `M ${330 * s} ${tableY - 150 * s} L ${370 * s} ${tableY - 185 * s} L ${370 * s} ${tableY - 25 * s} L ${330 * s} ${tableY + 10 * s} Z`, [25, 60, 110, 255]);
    fillPath(c, ellipse(560 * s, tableY - 40 * s, 70 * s, 66 * s), [220, 120, 30, 255]);
    fillPath(c, ellipse(540 * s, tableY - 62 * s, 22 * s, 16 * s), [250, 190, 110, 200]);
    fillPath(c, `M ${560 * s} ${tableY - 104 * s} L ${566 * s} ${tableY - 130 * s} L ${572 * s} ${tableY - 128 * s} L ${566 * s} ${tableY - 104 * s} Z`, [80, 60, 30, 255]);
  }
  return encodePng(c);
}

const rgb = (r: number, g: number, b: number): SolidPaint => ({ type: 'SOLID', color: { r, g, b } });

/**
 * Builds the sample document on figma.currentPage (see DemoIds for names, positions and sizes), then marks the
 * document as saved (host.mutations and undo history start empty). Loads the Inter fonts it uses.
 */
export async function createDemoDocument(figma: PluginAPI): Promise<DemoIds> {
  await figma.loadFontAsync({ family: 'Inter', style: 'Regular' });
  await figma.loadFontAsync({ family: 'Inter', style: 'Bold' });
  const page = figma.currentPage;
  const landscape = figma.createImage(makePhotoPng('landscape', 720, 450, 1));
  const stillLife = figma.createImage(makePhotoPng('still-life', 600, 450, 2));

  const put = <T extends SceneNode>(parent: ChildrenMixin, node: T, x: number, y: number): T => {
    parent.appendChild(node);
    node.x = x;
    node.y = y;
    return node;
  };
  const text = (parent: ChildrenMixin, chars: string, x: number, y: number, size: number, bold = false, color = rgb(0.1, 0.1, 0.1)): TextNode => {
    const t = figma.createText();
    if (bold) t.fontName = { family: 'Inter', style: 'Bold' };
    t.characters = chars;
    t.fontSize = size;
    t.fills = [color];
    return put(parent, t, x, y);
  };
  const rect = (parent: ChildrenMixin, name: string, x: number, y: number, w: number, h: number, fills: Paint[], strokes: Paint[] = [], radius = 0): RectangleNode => {
    const r = figma.createRectangle();
    r.name = name;
    r.resize(w, h);
    r.fills = fills;
    r.strokes = strokes;
    r.cornerRadius = radius;
    return put(parent, r, x, y);
  };

  // Hero: a frame with a photo fill.
  const hero = figma.createFrame();
  hero.name = 'Hero';
  hero.resize(720, 450);
  hero.fills = [{ type: 'IMAGE', imageHash: landscape.hash, scaleMode: 'FILL' }];
  put(page, hero, 0, 0);

  // Photo card: an image with a shape over it (inpainting).
  const card = figma.createFrame();
  card.name = 'Photo card';
  card.resize(400, 300);
  card.cornerRadius = 12;
  put(page, card, 780, 0);
  const photo = rect(card, 'Photo', 0, 0, 400, 300, [{ type: 'IMAGE', imageHash: stillLife.hash, scaleMode: 'FILL' }]);
  const blemish = figma.createEllipse();
  blemish.name = 'Blemish';
  blemish.resize(90, 90);
  blemish.fills = [rgb(0.92, 0.22, 0.25)];
  put(card, blemish, 250, 90);

  // A Figma mask: the ellipse masks the image above it inside a group.
  const maskFrame = figma.createFrame();
  maskFrame.name = 'Masked photo';
  maskFrame.resize(300, 300);
  maskFrame.fills = [];
  put(page, maskFrame, 1240, 0);
  const mask = figma.createEllipse();
  mask.name = 'Mask';
  mask.resize(260, 260);
  mask.fills = [rgb(0, 0, 0)];
  put(maskFrame, mask, 20, 20);
  mask.isMask = true;
  const maskedImage = rect(maskFrame, 'Masked image', 0, 0, 300, 300, [{ type: 'IMAGE', imageHash: landscape.hash, scaleMode: 'FILL' }]);
  const maskGroup = figma.group([mask, maskedImage], maskFrame);
  maskGroup.name = 'Mask group';

  // Wireframe: a landing page made of rectangles, vectors and text.
  const ink = rgb(0.2, 0.2, 0.2);
  const grey = rgb(0.8, 0.8, 0.8);
  const wf = figma.createFrame();
  wf.name = 'Wireframe';
  wf.resize(720, 450);
  wf.fills = [rgb(1, 1, 1)];
  wf.strokes = [grey];
  put(page, wf, 0, 510);
  rect(wf, 'Nav bar', 0, 0, 720, 56, [rgb(0.96, 0.96, 0.96)], [ink]);
  text(wf, 'Logo', 24, 18, 18, true);
  ['Product', 'Pricing', 'About'].forEach((label, i) => text(wf, label, 330 + i * 80, 21, 13));
  rect(wf, 'Sign up button', 596, 12, 100, 32, [], [ink], 6);
  text(wf, 'Sign up', 620, 20, 13);
  const placeholder = rect(wf, 'Image placeholder', 40, 96, 300, 220, [rgb(1, 1, 1)], [ink]);
  placeholder.strokeWeight = 2;
  const x = figma.createVector();
  x.name = 'Image X';
  x.vectorPaths = [{ windingRule: 'NONE', data: 'M 0 0 L 300 220 M 300 0 L 0 220' }];
  x.strokes = [ink];
  x.strokeWeight = 2;
  put(wf, x, 40, 96);
  text(wf, 'Build faster', 380, 104, 32, true);
  [280, 250, 264].forEach((w, i) => rect(wf, 'Text line', 380, 168 + i * 20, w, 10, [grey], [], 5));
  rect(wf, 'Primary button', 380, 250, 140, 44, [ink], [], 8);
  text(wf, 'Get started', 406, 264, 14, false, rgb(1, 1, 1));
  rect(wf, 'Secondary button', 536, 250, 140, 44, [], [ink], 8);
  text(wf, 'Learn more', 564, 264, 14);
  for (let i = 0; i < 3; i++) {
    rect(wf, 'Feature card', 40 + i * 220, 350, 200, 72, [], [grey], 8);
    const icon = figma.createEllipse();
    icon.name = 'Feature icon';
    icon.resize(36, 36);
    icon.fills = [];
    icon.strokes = [ink];
    put(wf, icon, 56 + i * 220, 368);
    rect(wf, 'Feature text', 104 + i * 220, 376, 110, 8, [grey], [], 4);
    rect(wf, 'Feature text', 104 + i * 220, 392, 80, 8, [grey], [], 4);
  }

  const plain = figma.createRectangle();
  plain.name = 'Rectangle';
  plain.resize(200, 120);
  plain.fills = [rgb(0.2, 0.4, 0.9)];
  put(page, plain, 780, 360);

  const caption = text(page, 'A plain text layer', 780, 510, 24);
  caption.name = 'Caption';

  hostOf(figma)?.markSaved();
  return {
    page: page.id, hero: hero.id, photoCard: card.id, photo: photo.id, blemish: blemish.id, maskFrame: maskFrame.id,
    maskGroup: maskGroup.id, mask: mask.id, maskedImage: maskedImage.id, wireframe: wf.id, wireframeX: x.id,
    rectangle: plain.id, text: caption.id, landscapeHash: landscape.hash, stillLifeHash: stillLife.hash,
  };
}
