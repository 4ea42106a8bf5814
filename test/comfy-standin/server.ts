/**
 * A stand-in ComfyUI server for tests (node:http + ws on 127.0.0.1, a free port). It follows ComfyUI's protocol as
 * its server.py / execution.py / main.py / protocol.py define it (read, not copied): the routes (also under /api),
 * JSON shapes, validation error bodies, the websocket event sequence (status → execution_start → execution_cached →
 * executing/progress/executed… → execution_success → executing{node:null}) sent to the prompt's client_id only,
 * binary preview frames (>I event 1, >I format 2 = PNG, image bytes), the default origin-only middleware (403 on a
 * loopback host with a mismatched Origin; no CORS headers) or `--enable-cors-header` behaviour.
 *
 * It EXECUTES the submitted graph, with small numeric stand-ins for each node, so a wrong wiring gives a wrong
 * image: prompts are colours, KSampler mixes (prompt colour, cfg, seeded noise, ControlNet line image, style colour)
 * into the latent by `denoise` under the noise mask, VAE = 8× block average / nearest upsample, composites and mask
 * nodes compute what ComfyUI's do. Faults are injectable: a token (a reverse proxy in front), missing nodes/models,
 * a node that raises, a paused queue, foreign prompts ahead, dropping every socket mid-run.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodePng, encodePng, type RgbaImage } from '../../ui/core/image';
import { encodePreviewFrame } from '../../ui/runtime/remote/comfy-protocol';

export interface StandinOptions {
  /** `--enable-cors-header [ORIGIN]`: null = ComfyUI's default origin-only middleware. */
  readonly cors?: string | null;
  /** Require `Authorization: Bearer <token>` (as a reverse proxy in front of ComfyUI would). */
  readonly token?: string;
  readonly checkpoints?: readonly string[];
  readonly controlnets?: readonly string[];
  readonly styleModels?: readonly string[];
  readonly clipVision?: readonly string[];
  /**
   * The IP-Adapter pack (ComfyUI_IPAdapter_plus): absent = not installed (its nodes are missing); a list = installed
   * with these files in models/ipadapter (possibly none).
   */
  readonly ipadapters?: readonly string[];
  /** Node classes the server does not have (as if a pack were not installed). */
  readonly withoutNodes?: readonly string[];
  /** Per KSampler step (ms). */
  readonly stepMs?: number;
  /** A node class whose execution raises this message. */
  readonly failNode?: { readonly classType: string; readonly message: string };
  readonly comfyVersion?: string;
}

type Img = { w: number; h: number; d: Float32Array }; // RGB 0..1
type Mask = { w: number; h: number; d: Float32Array }; // 0..1
type Latent = { w: number; h: number; d: Float32Array; mask?: Mask }; // 4 channels at 1/8
type Cond = { color: [number, number, number]; guidance?: number; control?: { image: Img; strength: number }; style?: { color: [number, number, number]; strength: number } };
type Value = unknown;

interface Prompt { number: number; id: string; prompt: Record<string, { class_type: string; inputs: Record<string, unknown> }>; extra: Record<string, unknown>; outputs: string[] }

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}
const colourOf = (text: string): [number, number, number] => { const h = fnv(text); return [(h & 255) / 255, ((h >> 8) & 255) / 255, ((h >> 16) & 255) / 255]; };
const clamp01 = (x: number): number => Math.min(1, Math.max(0, x));
function mulberry(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

function imgFromRgba(r: RgbaImage): { img: Img; alpha: Float32Array } {
  const img: Img = { w: r.width, h: r.height, d: new Float32Array(r.width * r.height * 3) };
  const alpha = new Float32Array(r.width * r.height);
  for (let i = 0; i < r.width * r.height; i++) {
    for (let c = 0; c < 3; c++) img.d[i * 3 + c] = (r.data[i * 4 + c] as number) / 255;
    alpha[i] = (r.data[i * 4 + 3] as number) / 255;
  }
  return { img, alpha };
}
function rgbaFromImg(img: Img): RgbaImage {
  const data = new Uint8ClampedArray(img.w * img.h * 4);
  for (let i = 0; i < img.w * img.h; i++) {
    for (let c = 0; c < 3; c++) data[i * 4 + c] = Math.round(clamp01(img.d[i * 3 + c] as number) * 255);
    data[i * 4 + 3] = 255;
  }
  return { width: img.w, height: img.h, data };
}
function vaeEncode(img: Img): Latent {
  const w = Math.max(1, Math.floor(img.w / 8)); const h = Math.max(1, Math.floor(img.h / 8));
  const d = new Float32Array(w * h * 4);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let yy = 0; yy < 8; yy++) for (let xx = 0; xx < 8; xx++) s += img.d[((y * 8 + yy) * img.w + x * 8 + xx) * 3 + c] as number;
      d[(y * w + x) * 4 + c] = (s / 64) * 2 - 1;
    }
  }
  return { w, h, d };
}
function vaeDecode(l: Latent): Img {
  const img: Img = { w: l.w * 8, h: l.h * 8, d: new Float32Array(l.w * 8 * l.h * 8 * 3) };
  for (let y = 0; y < img.h; y++) for (let x = 0; x < img.w; x++) {
    const li = (Math.floor(y / 8) * l.w + Math.floor(x / 8)) * 4;
    for (let c = 0; c < 3; c++) img.d[(y * img.w + x) * 3 + c] = clamp01(((l.d[li + c] as number) + 1) / 2);
  }
  return img;
}
/** Mean of a full-resolution mask over each latent cell. */
function maskAt(mask: Mask, lw: number, lh: number, x: number, y: number): number {
  const x0 = Math.floor((x * mask.w) / lw); const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * mask.w) / lw));
  const y0 = Math.floor((y * mask.h) / lh); const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * mask.h) / lh));
  let s = 0; let n = 0;
  for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) { s += mask.d[yy * mask.w + xx] as number; n++; }
  return n ? s / n : 0;
}
function lumaAt(img: Img, lw: number, lh: number, x: number, y: number): number {
  const px = Math.min(img.w - 1, Math.floor(((x + 0.5) * img.w) / lw)); const py = Math.min(img.h - 1, Math.floor(((y + 0.5) * img.h) / lh));
  let best = 0;
  // max over the cell so thin lines count
  const cx0 = Math.floor((x * img.w) / lw); const cx1 = Math.floor(((x + 1) * img.w) / lw);
  const cy0 = Math.floor((y * img.h) / lh); const cy1 = Math.floor(((y + 1) * img.h) / lh);
  for (let yy = cy0; yy < Math.max(cy1, cy0 + 1); yy++) for (let xx = cx0; xx < Math.max(cx1, cx0 + 1); xx++) {
    const i = (Math.min(img.h - 1, yy) * img.w + Math.min(img.w - 1, xx)) * 3;
    best = Math.max(best, ((img.d[i] as number) + (img.d[i + 1] as number) + (img.d[i + 2] as number)) / 3);
  }
  void px; void py;
  return best;
}

// ---- node definitions: /object_info specs and the numeric stand-ins --------------------------------------------

type Spec = [unknown, Record<string, unknown>?];
interface NodeDef {
  required: Record<string, Spec>;
  optional?: Record<string, Spec>;
  output: string[];
  outputNode?: boolean;
  category: string;
  run?: (inp: Record<string, Value>, ctx: RunCtx) => Value[] | Promise<Value[]>;
}
interface RunCtx {
  standin: Standin;
  promptId: string;
  nodeId: string;
  progress(value: number, max: number, preview?: Img): Promise<void>;
  saveTemp(img: Img): { filename: string; subfolder: string; type: 'temp' };
}

const INT = (def: number, min: number, max: number): Spec => ['INT', { default: def, min, max }];
const FLOAT = (def: number, min: number, max: number): Spec => ['FLOAT', { default: def, min, max, step: 0.01 }];
const SAMPLERS = ['euler', 'euler_ancestral', 'heun', 'dpm_2', 'dpmpp_2m', 'dpmpp_sde', 'lcm', 'ddim'];
const SCHEDULERS = ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal'];

export class Standin {
  opts: StandinOptions;
  readonly inputs = new Map<string, Uint8Array>();
  readonly temp = new Map<string, Uint8Array>();
  readonly history = new Map<string, Record<string, unknown>>();
  readonly requests: { method: string; path: string; origin: string | null; auth: string | null }[] = [];
  readonly sockets = new Map<string, WebSocket>();
  queue: Prompt[] = [];
  running: Prompt | null = null;
  paused = false;
  clientId: string | null = null;
  lastNodeId: string | null = null;
  interrupted = false;
  number = 0;
  tempCounter = 0;
  /** Close every socket once a KSampler reaches this step (then clear). */
  dropSocketsAtStep: number | null = null;
  /** When set, refuse websocket upgrades (simulates a proxy that drops ws). */
  refuseSockets = false;
  defs: Record<string, NodeDef>;
  private wake: (() => void) | null = null;

  constructor(opts: StandinOptions) {
    this.opts = opts;
    this.defs = this.nodeDefs();
    for (const n of opts.withoutNodes ?? []) delete this.defs[n];
  }

  /** Installs models or a node pack while running (as a user would, before pressing Check again). */
  install(patch: Partial<Pick<StandinOptions, 'checkpoints' | 'controlnets' | 'styleModels' | 'clipVision' | 'ipadapters'>>): void {
    this.opts = { ...this.opts, ...patch };
    this.defs = this.nodeDefs();
    for (const n of this.opts.withoutNodes ?? []) delete this.defs[n];
  }

  private nodeDefs(): Record<string, NodeDef> {
    const o = this.opts;
    const cond = (c: Cond): Cond[] => [c];
    return {
      CheckpointLoaderSimple: {
        required: { ckpt_name: [[...(o.checkpoints ?? ['sd15-random.safetensors'])]] }, output: ['MODEL', 'CLIP', 'VAE'], category: 'loaders',
        run: (i) => [{ name: i.ckpt_name, tint: colourOf(String(i.ckpt_name)) }, { name: i.ckpt_name }, { name: i.ckpt_name }],
      },
      CLIPTextEncode: {
        required: { text: ['STRING', { multiline: true, dynamicPrompts: true }], clip: ['CLIP'] }, output: ['CONDITIONING'], category: 'conditioning',
        run: (i) => [cond({ color: colourOf(String(i.text)) })],
      },
      FluxGuidance: {
        required: { conditioning: ['CONDITIONING'], guidance: FLOAT(3.5, 0, 100) }, output: ['CONDITIONING'], category: 'advanced/conditioning/flux',
        run: (i) => [(i.conditioning as Cond[]).map((c) => ({ ...c, guidance: i.guidance as number }))],
      },
      EmptyLatentImage: {
        required: { width: INT(512, 16, 16384), height: INT(512, 16, 16384), batch_size: INT(1, 1, 4096) }, output: ['LATENT'], category: 'latent',
        run: (i) => { const w = Math.floor((i.width as number) / 8); const h = Math.floor((i.height as number) / 8); return [{ w, h, d: new Float32Array(w * h * 4) } satisfies Latent]; },
      },
      LoadImage: {
        required: { image: [[...this.inputs.keys()].sort(), { image_upload: true }] }, output: ['IMAGE', 'MASK'], category: 'image',
        run: (i) => {
          const bytes = this.inputs.get(String(i.image));
          if (!bytes) throw new Error(`Invalid image file: ${String(i.image)}`);
          const { img, alpha } = imgFromRgba(decodePng(bytes));
          return [img, { w: img.w, h: img.h, d: alpha.map((a) => 1 - a) } satisfies Mask];
        },
      },
      LoadImageMask: {
        required: { image: [[...this.inputs.keys()].sort(), { image_upload: true }], channel: [['alpha', 'red', 'green', 'blue']] }, output: ['MASK'], category: 'mask',
        run: (i) => {
          const bytes = this.inputs.get(String(i.image));
          if (!bytes) throw new Error(`Invalid image file: ${String(i.image)}`);
          const r = decodePng(bytes);
          const c = ['red', 'green', 'blue', 'alpha'].indexOf(String(i.channel));
          const d = new Float32Array(r.width * r.height);
          for (let k = 0; k < d.length; k++) { const v = (r.data[k * 4 + c] as number) / 255; d[k] = c === 3 ? 1 - v : v; }
          return [{ w: r.width, h: r.height, d } satisfies Mask];
        },
      },
      GrowMask: {
        required: { mask: ['MASK'], expand: INT(0, -16384, 16384), tapered_corners: ['BOOLEAN', { default: true }] }, output: ['MASK'], category: 'mask',
        run: (i) => {
          let m = i.mask as Mask;
          const n = Math.abs(i.expand as number); const grow = (i.expand as number) >= 0;
          for (let k = 0; k < n; k++) {
            const d = new Float32Array(m.d.length);
            for (let y = 0; y < m.h; y++) for (let x = 0; x < m.w; x++) {
              let v = m.d[y * m.w + x] as number;
              for (const [dx, dy] of [[1, 0], [-1, 0], [0, 1], [0, -1], ...(i.tapered_corners ? [] : [[1, 1], [1, -1], [-1, 1], [-1, -1]])] as [number, number][]) {
                const xx = x + dx; const yy = y + dy;
                if (xx < 0 || yy < 0 || xx >= m.w || yy >= m.h) continue;
                const u = m.d[yy * m.w + xx] as number;
                v = grow ? Math.max(v, u) : Math.min(v, u);
              }
              d[y * m.w + x] = v;
            }
            m = { w: m.w, h: m.h, d };
          }
          return [m];
        },
      },
      VAEEncode: { required: { pixels: ['IMAGE'], vae: ['VAE'] }, output: ['LATENT'], category: 'latent', run: (i) => [vaeEncode(i.pixels as Img)] },
      VAEDecode: { required: { samples: ['LATENT'], vae: ['VAE'] }, output: ['IMAGE'], category: 'latent', run: (i) => [vaeDecode(i.samples as Latent)] },
      SetLatentNoiseMask: {
        required: { samples: ['LATENT'], mask: ['MASK'] }, output: ['LATENT'], category: 'latent/inpaint',
        run: (i) => [{ ...(i.samples as Latent), mask: i.mask as Mask }],
      },
      ImageCompositeMasked: {
        required: { destination: ['IMAGE'], source: ['IMAGE'], x: INT(0, 0, 16384), y: INT(0, 0, 16384), resize_source: ['BOOLEAN', { default: false }] },
        optional: { mask: ['MASK'] }, output: ['IMAGE'], category: 'image',
        run: (i) => {
          const dst = i.destination as Img; const src = i.source as Img; const m = i.mask as Mask | undefined;
          const out: Img = { w: dst.w, h: dst.h, d: Float32Array.from(dst.d) };
          const ox = i.x as number; const oy = i.y as number;
          for (let y = 0; y < src.h; y++) for (let x = 0; x < src.w; x++) {
            const X = x + ox; const Y = y + oy;
            if (X >= dst.w || Y >= dst.h) continue;
            const a = m ? (m.d[Math.min(m.h - 1, y) * m.w + Math.min(m.w - 1, x)] as number) : 1;
            for (let c = 0; c < 3; c++) out.d[(Y * dst.w + X) * 3 + c] = (dst.d[(Y * dst.w + X) * 3 + c] as number) * (1 - a) + (src.d[(y * src.w + x) * 3 + c] as number) * a;
          }
          return [out];
        },
      },
      ControlNetLoader: { required: { control_net_name: [[...(o.controlnets ?? [])]] }, output: ['CONTROL_NET'], category: 'loaders', run: (i) => [{ name: i.control_net_name }] },
      ControlNetApplyAdvanced: {
        required: {
          positive: ['CONDITIONING'], negative: ['CONDITIONING'], control_net: ['CONTROL_NET'], image: ['IMAGE'], strength: FLOAT(1, 0, 10),
          start_percent: FLOAT(0, 0, 1), end_percent: FLOAT(1, 0, 1),
        },
        optional: { vae: ['VAE'] }, output: ['CONDITIONING', 'CONDITIONING'], category: 'conditioning/controlnet',
        run: (i) => {
          const control = { image: i.image as Img, strength: (i.strength as number) * ((i.end_percent as number) - (i.start_percent as number)) };
          return [(i.positive as Cond[]).map((c) => ({ ...c, control })), (i.negative as Cond[]).map((c) => ({ ...c, control }))];
        },
      },
      CLIPVisionLoader: { required: { clip_name: [[...(o.clipVision ?? [])]] }, output: ['CLIP_VISION'], category: 'loaders', run: (i) => [{ name: i.clip_name }] },
      CLIPVisionEncode: {
        required: { clip_vision: ['CLIP_VISION'], image: ['IMAGE'], crop: [['center', 'none']] }, output: ['CLIP_VISION_OUTPUT'], category: 'conditioning',
        run: (i) => {
          const img = i.image as Img; const m: [number, number, number] = [0, 0, 0];
          for (let k = 0; k < img.w * img.h; k++) for (let c = 0; c < 3; c++) m[c] = (m[c] as number) + (img.d[k * 3 + c] as number) / (img.w * img.h);
          return [{ mean: m }];
        },
      },
      StyleModelLoader: { required: { style_model_name: [[...(o.styleModels ?? [])]] }, output: ['STYLE_MODEL'], category: 'loaders', run: (i) => [{ name: i.style_model_name }] },
      StyleModelApply: {
        required: {
          conditioning: ['CONDITIONING'], style_model: ['STYLE_MODEL'], clip_vision_output: ['CLIP_VISION_OUTPUT'], strength: FLOAT(1, 0, 10),
          strength_type: [['multiply', 'attn_bias']],
        },
        output: ['CONDITIONING'], category: 'conditioning/style_model',
        run: (i) => [(i.conditioning as Cond[]).map((c) => ({ ...c, style: { color: (i.clip_vision_output as { mean: [number, number, number] }).mean, strength: i.strength as number } }))],
      },
      // The IP-Adapter pack's nodes as ComfyUI_IPAdapter_plus declares them (IPAdapterPlus.py INPUT_TYPES; read, not copied).
      ...(o.ipadapters ? {
        IPAdapterModelLoader: {
          required: { ipadapter_file: [[...o.ipadapters]] }, output: ['IPADAPTER'], category: 'ipadapter/loaders', run: (i: Record<string, Value>) => [{ name: i.ipadapter_file }],
        },
        IPAdapterAdvanced: {
          required: {
            model: ['MODEL'], ipadapter: ['IPADAPTER'], image: ['IMAGE'], weight: ['FLOAT', { default: 1, min: -1, max: 5, step: 0.05 }],
            weight_type: [['linear', 'ease in', 'ease out', 'ease in-out', 'reverse in-out', 'weak input', 'weak output', 'weak middle', 'strong middle', 'style transfer', 'composition', 'strong style transfer', 'style and composition', 'style transfer precise', 'composition precise']],
            combine_embeds: [['concat', 'add', 'subtract', 'average', 'norm average']],
            start_at: ['FLOAT', { default: 0, min: 0, max: 1, step: 0.001 }], end_at: ['FLOAT', { default: 1, min: 0, max: 1, step: 0.001 }],
            embeds_scaling: [['V only', 'K+V', 'K+V w/ C penalty', 'K+mean(V) w/ C penalty']],
          },
          optional: { image_negative: ['IMAGE'], attn_mask: ['MASK'], clip_vision: ['CLIP_VISION'] },
          output: ['MODEL'], category: 'ipadapter',
          // The image's look (its mean colour, like CLIPVisionEncode here) is carried on the MODEL, weighted; "style
          // transfer" takes the look only, any other weight type would also copy the reference's layout (not modelled).
          run: (i: Record<string, Value>) => {
            if (!i.clip_vision) throw new Error('Missing CLIPVision model.');
            const img = i.image as Img; const m: [number, number, number] = [0, 0, 0];
            for (let k = 0; k < img.w * img.h; k++) for (let c = 0; c < 3; c++) m[c] = (m[c] as number) + (img.d[k * 3 + c] as number) / (img.w * img.h);
            const span = (i.end_at as number) - (i.start_at as number);
            return [{ ...(i.model as object), style: { color: m, strength: (i.weight as number) * span } }];
          },
        },
      } satisfies Record<string, NodeDef> : {}),
      KSampler: {
        required: {
          model: ['MODEL'], seed: INT(0, 0, 0xffffffffffffffff), steps: INT(20, 1, 10000), cfg: FLOAT(8, 0, 100), sampler_name: [SAMPLERS],
          scheduler: [SCHEDULERS], positive: ['CONDITIONING'], negative: ['CONDITIONING'], latent_image: ['LATENT'], denoise: FLOAT(1, 0, 1),
        },
        output: ['LATENT'], category: 'sampling',
        run: async (i, ctx) => {
          const lat = i.latent_image as Latent; const pos = (i.positive as Cond[])[0] as Cond; const neg = (i.negative as Cond[])[0] as Cond;
          const model = i.model as { tint: [number, number, number]; style?: { color: [number, number, number]; strength: number } };
          const rnd = mulberry((i.seed as number) % 4294967296);
          const cfg = i.cfg as number; const denoise = i.denoise as number; const steps = i.steps as number;
          const contrast = pos.guidance !== undefined ? pos.guidance / 3.5 : 1;
          const target = new Float32Array(lat.d.length);
          for (let y = 0; y < lat.h; y++) for (let x = 0; x < lat.w; x++) {
            const noise = (rnd() - 0.5) * 0.3;
            const ctl = pos.control ? pos.control.strength * (lumaAt(pos.control.image, lat.w, lat.h, x, y) - 0.5) : 0;
            for (let c = 0; c < 3; c++) {
              let v = (pos.color[c] as number) + ((pos.color[c] as number) - (neg.color[c] as number)) * (cfg - 1) * 0.05;
              v = 0.8 * v + 0.2 * (model.tint[c] as number);
              if (pos.style) v += (pos.style.color[c] as number - v) * Math.min(1, pos.style.strength * 0.7);
              if (model.style) v += (model.style.color[c] as number - v) * Math.min(1, Math.max(0, model.style.strength) * 0.7);
              v = 0.5 + (v - 0.5) * contrast + noise + ctl;
              target[(y * lat.w + x) * 4 + c] = clamp01(v) * 2 - 1;
            }
          }
          const out = new Float32Array(lat.d.length);
          for (let s = 1; s <= steps; s++) {
            const t = (s / steps) * denoise;
            for (let y = 0; y < lat.h; y++) for (let x = 0; x < lat.w; x++) {
              const m = lat.mask ? maskAt(lat.mask, lat.w, lat.h, x, y) : 1;
              for (let c = 0; c < 4; c++) {
                const k = (y * lat.w + x) * 4 + c;
                const v = (lat.d[k] as number) * (1 - t) + (target[k] as number) * t;
                out[k] = (lat.d[k] as number) * (1 - m) + v * m;
              }
            }
            // A latent2rgb-style preview at latent resolution (as ComfyUI's cheap preview method sends).
            const pv: Img = { w: lat.w, h: lat.h, d: new Float32Array(lat.w * lat.h * 3) };
            for (let k = 0; k < lat.w * lat.h; k++) for (let c = 0; c < 3; c++) pv.d[k * 3 + c] = clamp01(((out[k * 4 + c] as number) + 1) / 2);
            await ctx.progress(s, steps, pv);
          }
          return [{ w: lat.w, h: lat.h, d: out }];
        },
      },
      PreviewImage: {
        required: { images: ['IMAGE'] }, output: [], outputNode: true, category: 'image',
        run: (i, ctx) => { const ref = ctx.saveTemp(i.images as Img); return [{ ui: { images: [ref] } }]; },
      },
      SaveImage: {
        required: { images: ['IMAGE'], filename_prefix: ['STRING', { default: 'ComfyUI' }] }, output: [], outputNode: true, category: 'image',
        run: (i, ctx) => { const ref = ctx.saveTemp(i.images as Img); return [{ ui: { images: [{ ...ref, type: 'output' }] } }]; },
      },
    };
  }

  objectInfo(): Record<string, unknown> {
    // LoadImage's list is the input folder at the time of the request (as ComfyUI's INPUT_TYPES reads it).
    const fresh = this.nodeDefs();
    const out: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(this.defs)) {
      const d = fresh[name] ?? def;
      out[name] = {
        input: { required: d.required, ...(d.optional ? { optional: d.optional } : {}) },
        input_order: { required: Object.keys(d.required), ...(d.optional ? { optional: Object.keys(d.optional) } : {}) },
        output: d.output, output_is_list: d.output.map(() => false), output_name: d.output, name, display_name: name, description: '',
        python_module: 'nodes', category: d.category, output_node: Boolean(d.outputNode),
      };
    }
    return out;
  }

  queueRemaining(): number {
    return this.queue.length + (this.running ? 1 : 0);
  }

  send(type: string, data: unknown, sid: string | null): void {
    const msg = JSON.stringify({ type, data });
    if (sid === null) { for (const ws of this.sockets.values()) ws.send(msg); return; }
    this.sockets.get(sid)?.send(msg);
  }

  sendBytes(bytes: Uint8Array, sid: string | null): void {
    if (sid !== null) this.sockets.get(sid)?.send(bytes);
  }

  queueUpdated(): void {
    this.send('status', { status: { exec_info: { queue_remaining: this.queueRemaining() } } }, null);
  }

  /** Validation as execution.py validate_prompt does it (the error shapes the client must read). */
  validate(prompt: Prompt['prompt']): { ok: true; outputs: string[] } | { ok: false; error: Record<string, unknown>; node_errors: Record<string, unknown> } {
    const outputs: string[] = [];
    for (const [id, node] of Object.entries(prompt)) {
      if (!node || typeof node.class_type !== 'string') {
        return { ok: false, error: { type: 'invalid_prompt', message: 'Cannot execute because a node is missing the class_type property.', details: `Node ID '#${id}'`, extra_info: {} }, node_errors: {} };
      }
      const def = this.defs[node.class_type];
      if (!def) return { ok: false, error: { type: 'invalid_prompt', message: `Cannot execute because node ${node.class_type} does not exist.`, details: `Node ID '#${id}'`, extra_info: {} }, node_errors: {} };
      if (def.outputNode) outputs.push(id);
    }
    if (outputs.length === 0) return { ok: false, error: { type: 'prompt_no_outputs', message: 'Prompt has no outputs', details: '', extra_info: {} }, node_errors: {} };
    const fresh = this.nodeDefs();
    const nodeErrors: Record<string, unknown> = {};
    const lines: string[] = [];
    for (const [id, node] of Object.entries(prompt)) {
      const def = fresh[node.class_type] as NodeDef;
      const errors: Record<string, unknown>[] = [];
      for (const [name, spec] of Object.entries(def.required)) {
        const v = node.inputs?.[name];
        if (v === undefined) { errors.push({ type: 'required_input_missing', message: 'Required input is missing', details: name, extra_info: { input_name: name } }); continue; }
        if (Array.isArray(v)) {
          const src = prompt[String(v[0])];
          if (v.length !== 2 || !src) { errors.push({ type: 'bad_linked_input', message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]', details: name, extra_info: { input_name: name } }); continue; }
          const srcDef = this.defs[src.class_type];
          const got = srcDef?.output[v[1] as number];
          if (typeof spec[0] === 'string' && got !== spec[0]) {
            errors.push({ type: 'return_type_mismatch', message: 'Return type mismatch between linked nodes', details: `${name}, received_type(${String(got)}) mismatch input_type(${spec[0]})`, extra_info: { input_name: name } });
          }
          continue;
        }
        if (Array.isArray(spec[0]) && !(spec[0] as unknown[]).includes(v)) {
          errors.push({ type: 'value_not_in_list', message: 'Value not in list', details: `${name}: '${String(v)}' not in ${JSON.stringify(spec[0])}`, extra_info: { input_name: name, input_config: spec, received_value: v } });
        }
      }
      if (errors.length) {
        nodeErrors[id] = { errors, dependent_outputs: outputs, class_type: node.class_type };
        for (const e of errors) lines.push(`${String(e.message)}: ${String(e.details)}`);
      }
    }
    if (lines.length) return { ok: false, error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: lines.join('\n'), extra_info: {} }, node_errors: nodeErrors };
    return { ok: true, outputs };
  }

  enqueue(p: Prompt): void {
    this.queue.push(p);
    this.queue.sort((a, b) => a.number - b.number);
    this.queueUpdated();
    this.wake?.();
  }

  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  async loop(stop: () => boolean): Promise<void> {
    while (!stop()) {
      if (this.paused || this.queue.length === 0) {
        await new Promise<void>((r) => { this.wake = r; setTimeout(r, 50); });
        continue;
      }
      const p = this.queue.shift() as Prompt;
      this.running = p;
      this.queueUpdated();
      await this.execute(p);
      this.running = null;
      this.queueUpdated();
    }
  }

  private async execute(p: Prompt): Promise<void> {
    const sid = typeof p.extra.client_id === 'string' ? p.extra.client_id : null;
    this.clientId = sid;
    this.interrupted = false;
    const messages: [string, Record<string, unknown>][] = [];
    const add = (event: string, data: Record<string, unknown>, broadcast = false): void => {
      const d = { ...data, timestamp: Date.now() };
      messages.push([event, d]);
      if (sid !== null || broadcast) this.send(event, d, sid);
    };
    add('execution_start', { prompt_id: p.id });
    add('execution_cached', { nodes: [], prompt_id: p.id });
    const results = new Map<string, Value[]>();
    const outputs: Record<string, unknown> = {};
    const executed: string[] = [];
    let failed = false;
    const evalNode = async (id: string): Promise<Value[]> => {
      const done = results.get(id);
      if (done) return done;
      const node = p.prompt[id] as Prompt['prompt'][string];
      const def = this.defs[node.class_type] as NodeDef;
      const inputs: Record<string, Value> = {};
      for (const [name, v] of Object.entries(node.inputs ?? {})) {
        inputs[name] = Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && p.prompt[v[0]] ? (await evalNode(v[0]))[v[1] as number] : v;
      }
      this.lastNodeId = id;
      this.send('executing', { node: id, display_node: id, prompt_id: p.id }, sid);
      if (this.opts.failNode?.classType === node.class_type) {
        const err = new Error(this.opts.failNode.message) as Error & { nodeId?: string; classType?: string };
        err.nodeId = id; err.classType = node.class_type;
        throw err;
      }
      const ctx: RunCtx = {
        standin: this, promptId: p.id, nodeId: id,
        progress: async (value, max, preview) => {
          if (this.interrupted) { const e = new Error('interrupted') as Error & { interrupted?: boolean; nodeId?: string; classType?: string }; e.interrupted = true; e.nodeId = id; e.classType = node.class_type; throw e; }
          this.send('progress', { value, max, prompt_id: p.id, node: id }, sid);
          if (preview) this.sendBytes(encodePreviewFrame('PNG', encodePng(rgbaFromImg(preview))), sid);
          if (this.dropSocketsAtStep !== null && value >= this.dropSocketsAtStep) {
            this.dropSocketsAtStep = null;
            for (const ws of this.sockets.values()) ws.terminate();
          }
          await new Promise((r) => setTimeout(r, this.opts.stepMs ?? 5));
        },
        saveTemp: (img) => {
          const filename = `ComfyUI_temp_standin_${String(++this.tempCounter).padStart(5, '0')}_.png`;
          this.temp.set(filename, encodePng(rgbaFromImg(img)));
          return { filename, subfolder: '', type: 'temp' };
        },
      };
      const out = await (def.run as NonNullable<NodeDef['run']>)(inputs, ctx);
      results.set(id, out);
      executed.push(id);
      const ui = (out[0] as { ui?: Record<string, unknown> } | undefined)?.ui;
      if (def.outputNode && ui) {
        outputs[id] = ui;
        this.send('executed', { node: id, display_node: id, output: ui, prompt_id: p.id }, sid);
      }
      return out;
    };
    try {
      for (const o of p.outputs) await evalNode(o);
    } catch (e) {
      failed = true;
      const err = e as Error & { interrupted?: boolean; nodeId?: string; classType?: string };
      if (err.interrupted) {
        add('execution_interrupted', { prompt_id: p.id, node_id: err.nodeId, node_type: err.classType, executed }, true);
      } else {
        add('execution_error', {
          prompt_id: p.id, node_id: err.nodeId ?? '', node_type: err.classType ?? '', executed, exception_message: err.message,
          exception_type: 'RuntimeError', traceback: [`  File "nodes.py", line 1, in ${err.classType ?? 'node'}\n`], current_inputs: {}, current_outputs: [],
        });
      }
    }
    if (!failed) add('execution_success', { prompt_id: p.id });
    this.history.set(p.id, {
      prompt: [p.number, p.id, p.prompt, p.extra, p.outputs],
      outputs,
      status: { status_str: failed ? 'error' : 'success', completed: !failed, messages },
      meta: Object.fromEntries(Object.keys(outputs).map((id) => [id, { node_id: id, display_node: id, parent_node: null, real_node_id: id }])),
    });
    this.lastNodeId = null;
    if (sid !== null) this.send('executing', { node: null, prompt_id: p.id }, sid);
  }
}

export interface RunningStandin {
  readonly url: string;
  readonly standin: Standin;
  closeAsync(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\./.test(host);
}

/** Starts the stand-in on 127.0.0.1 at a free port. */
export async function startStandinAsync(opts: StandinOptions = {}): Promise<RunningStandin> {
  const standin = new Standin(opts);
  let stopped = false;
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      const origin = req.headers.origin ?? null;
      standin.requests.push({ method: req.method ?? 'GET', path: url.pathname + url.search, origin, auth: req.headers.authorization ?? null });
      // Middleware, as server.py: --enable-cors-header, or the default origin-only check.
      if (opts.cors) {
        res.setHeader('Access-Control-Allow-Origin', opts.cors);
        res.setHeader('Access-Control-Allow-Methods', 'POST, GET, DELETE, PUT, OPTIONS');
        res.setHeader('Access-Control-Allow-Headers', 'Content-Type, Authorization');
        res.setHeader('Access-Control-Allow-Credentials', 'true');
      } else if (req.headers.host && origin) {
        const host = new URL(`http://${req.headers.host}`);
        let o: URL | null = null;
        try { o = new URL(origin); } catch { o = null; }
        if (o && isLoopback(host.hostname)) {
          const hostDomain = o.port ? host.host : host.hostname;
          const originDomain = host.port ? o.host : o.hostname;
          if (hostDomain && originDomain && hostDomain !== originDomain) { res.writeHead(403); res.end(); return; }
        }
      }
      if (req.method === 'OPTIONS') { res.writeHead(200); res.end(); return; }
      if (opts.token && req.headers.authorization !== `Bearer ${opts.token}`) { res.writeHead(401, { 'Content-Type': 'text/plain' }); res.end('401: Unauthorized'); return; }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const path = url.pathname.replace(/^\/api(?=\/)/, '');
      try {
        if (req.method === 'GET' && path === '/system_stats') {
          return json(res, 200, {
            system: { os: 'posix', ram_total: 8e9, ram_free: 4e9, comfyui_version: opts.comfyVersion ?? '0.3.64', python_version: '3.11', pytorch_version: '2.13.0+cpu', embedded_python: false, argv: ['main.py', '--cpu'] },
            devices: [{ name: 'cpu', type: 'cpu', index: null, vram_total: 8e9, vram_free: 4e9, torch_vram_total: 8e9, torch_vram_free: 4e9 }],
          });
        }
        if (req.method === 'GET' && path === '/object_info') return json(res, 200, standin.objectInfo());
        if (req.method === 'GET' && path.startsWith('/object_info/')) {
          const cls = decodeURIComponent(path.slice('/object_info/'.length));
          const all = standin.objectInfo();
          return json(res, 200, cls in all ? { [cls]: all[cls] } : {});
        }
        if (req.method === 'GET' && path === '/prompt') return json(res, 200, { exec_info: { queue_remaining: standin.queueRemaining() } });
        if (req.method === 'GET' && path === '/queue') {
          const item = (p: Prompt) => [p.number, p.id, p.prompt, p.extra, p.outputs];
          return json(res, 200, { queue_running: standin.running ? [item(standin.running)] : [], queue_pending: standin.queue.map(item) });
        }
        if (req.method === 'POST' && path === '/prompt') {
          const data = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
          const number = standin.number++;
          if (!('prompt' in data)) return json(res, 400, { error: { type: 'no_prompt', message: 'No prompt provided', details: 'No prompt provided', extra_info: {} }, node_errors: {} });
          const id = String(data.prompt_id ?? crypto.randomUUID());
          const v = standin.validate(data.prompt as Prompt['prompt']);
          if (!v.ok) return json(res, 400, { error: v.error, node_errors: v.node_errors });
          const extra: Record<string, unknown> = { ...((data.extra_data as Record<string, unknown>) ?? {}) };
          if (typeof data.client_id === 'string') extra.client_id = data.client_id;
          standin.enqueue({ number, id, prompt: data.prompt as Prompt['prompt'], extra, outputs: v.outputs });
          return json(res, 200, { prompt_id: id, number, node_errors: {} });
        }
        if (req.method === 'POST' && path === '/queue') {
          const data = JSON.parse(body.toString('utf8') || '{}') as { clear?: boolean; delete?: string[] };
          if (data.clear) { standin.queue = []; standin.queueUpdated(); }
          for (const id of data.delete ?? []) {
            const i = standin.queue.findIndex((p) => p.id === id);
            if (i >= 0) { standin.queue.splice(i, 1); standin.queueUpdated(); }
          }
          res.writeHead(200); res.end(); return;
        }
        if (req.method === 'POST' && path === '/interrupt') {
          let data: { prompt_id?: string } = {};
          try { data = JSON.parse(body.toString('utf8')) as { prompt_id?: string }; } catch { data = {}; }
          if (!data.prompt_id || standin.running?.id === data.prompt_id) standin.interrupted = true;
          res.writeHead(200); res.end(); return;
        }
        if (req.method === 'POST' && path === '/upload/image') {
          const form = await new Response(body, { headers: { 'content-type': req.headers['content-type'] ?? '' } }).formData();
          const image = form.get('image');
          if (!image || typeof image === 'string' || !image.name) { res.writeHead(400); res.end(); return; }
          const subfolder = String(form.get('subfolder') ?? '');
          let name = image.name;
          const bytes = new Uint8Array(await image.arrayBuffer());
          const key = (n: string) => (subfolder ? `${subfolder}/${n}` : n);
          const overwrite = form.get('overwrite') === 'true' || form.get('overwrite') === '1';
          if (!overwrite) {
            for (let i = 1; standin.inputs.has(key(name)) && Buffer.compare(Buffer.from(standin.inputs.get(key(name)) as Uint8Array), Buffer.from(bytes)) !== 0; i++) {
              name = image.name.replace(/(\.[^.]*)?$/, (ext) => ` (${i})${ext}`);
            }
          }
          standin.inputs.set(key(name), bytes);
          return json(res, 200, { name, subfolder, type: String(form.get('type') ?? 'input') || 'input' });
        }
        if (req.method === 'GET' && path === '/view') {
          const filename = url.searchParams.get('filename') ?? '';
          if (!filename || filename.startsWith('/') || filename.includes('..')) { res.writeHead(400); res.end(); return; }
          const type = url.searchParams.get('type') ?? 'output';
          const store = type === 'input' ? standin.inputs : standin.temp;
          const bytes = store.get(filename);
          if (!bytes) { res.writeHead(404); res.end(); return; }
          res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Disposition': `filename="${filename}"` });
          res.end(Buffer.from(bytes));
          return;
        }
        if (req.method === 'GET' && path.startsWith('/view_metadata/')) { res.writeHead(404); res.end(); return; }
        if (req.method === 'GET' && path === '/history') return json(res, 200, Object.fromEntries(standin.history));
        if (req.method === 'GET' && path.startsWith('/history/')) {
          const id = decodeURIComponent(path.slice('/history/'.length));
          const h = standin.history.get(id);
          return json(res, 200, h ? { [id]: h } : {});
        }
        res.writeHead(404, { 'Content-Type': 'text/plain' });
        res.end('404: Not Found');
      } catch (err) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`500 Internal Server Error\n\n${err instanceof Error ? err.message : String(err)}`);
      }
    })();
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname.replace(/^\/api(?=\/)/, '') !== '/ws' || standin.refuseSockets) { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let sid = url.searchParams.get('clientId') ?? '';
      if (sid) standin.sockets.delete(sid);
      else sid = crypto.randomUUID().replace(/-/g, '');
      standin.sockets.set(sid, ws);
      ws.on('close', () => { if (standin.sockets.get(sid) === ws) standin.sockets.delete(sid); });
      ws.send(JSON.stringify({ type: 'status', data: { status: { exec_info: { queue_remaining: standin.queueRemaining() } }, sid } }));
      if (standin.clientId === sid && standin.lastNodeId !== null) ws.send(JSON.stringify({ type: 'executing', data: { node: standin.lastNodeId } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const loop = standin.loop(() => stopped);
  return {
    url: `http://127.0.0.1:${port}`,
    standin,
    closeAsync: async () => {
      stopped = true;
      standin.resume();
      for (const ws of standin.sockets.values()) ws.terminate();
      wss.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
      await loop;
    },
  };
}
