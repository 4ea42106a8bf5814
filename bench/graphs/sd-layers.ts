/**
 * SD building blocks as ONNX subgraphs (opset 17), shaped like diffusers' modules:
 * GroupNorm (as torch exports it below opset 18: Reshape → InstanceNormalization → Reshape → affine), ResnetBlock2D,
 * Transformer2DModel/BasicTransformerBlock (self-attn, cross-attn, GEGLU), Downsample2D, Upsample2D,
 * timestep embedding (diffusers `get_timestep_embedding`, flip_sin_to_cos) and the VAE's single-head AttentionBlock.
 * Weights are seeded uniform values scaled by 1/sqrt(fan_in)·gain so activations stay finite through deep stacks.
 */
import type { GraphBuilder } from './graph-builder';

/** Seeded uniform PRNG (mulberry32); the bench only needs reproducible weights, not torch's stream. */
import { seededRandom } from '../../test/helpers/seeded-random';

export const createWeightRng = seededRandom;

export interface Layers {
  readonly g: GraphBuilder;
  /** Multiply-accumulates of the convs and matmuls added so far (for GMAC/s figures). */
  macs(): number;
  /** Uniform weights in ±gain·sqrt(3/fanIn). */
  randomWeight(dims: readonly number[], fanIn: number, gain?: number): string;
  /** x [B, rows, inF] → [B, rows, outF] (MatMul + Add). */
  linear(x: string, rows: number, inF: number, outF: number, opts?: { bias?: boolean; gain?: number }): string;
  /**
   * x [B, inC, H, W] → [B, outC, H', W'] where `outPixels` = H'·W' (3×3 pads 1; `asymmetricPad` = diffusers' VAE
   * Downsample2D pad (0,1,0,1)).
   */
  conv(x: string, outPixels: number, inC: number, outC: number, k: number, opts?: { stride?: number; gain?: number; asymmetricPad?: boolean }): string;
  /** GroupNorm over x [B, C, ...] with `groups` groups, eps 1e-5 (1e-6 in the VAE), then the per-channel affine. */
  groupNorm(x: string, c: number, groups: number, eps?: number): string;
  layerNorm(x: string, c: number): string;
  silu(x: string): string;
  /** Exact GELU: 0.5·x·(1 + erf(x/√2)). */
  gelu(x: string): string;
  /** Multi-head attention over x [B, lq, C], context [B, lk, contextDim] (x itself when null) → [B, lq, C]; `mask` is added to the scores. */
  attention(x: string, context: string | null, lq: number, lk: number, c: number, contextDim: number, heads: number, mask?: string): string;
}

export function createLayers(g: GraphBuilder, seed: number): Layers {
  const rand = createWeightRng(seed);
  let macs = 0;
  const L: Layers = {
    g,
    macs: () => macs,
    randomWeight(dims, fanIn, gain = 1) {
      const n = dims.reduce((a, c) => a * c, 1);
      const a = gain * Math.sqrt(3 / fanIn);
      const data = new Float32Array(n);
      for (let i = 0; i < n; i++) data[i] = (rand() * 2 - 1) * a;
      return g.weight(dims, data);
    },
    linear(x, rows, inF, outF, opts = {}) {
      macs += rows * inF * outF;
      const y = g.op('MatMul', [x, L.randomWeight([inF, outF], inF, opts.gain ?? 1)]);
      if (opts.bias === false) return y;
      return g.op('Add', [y, L.randomWeight([outF], inF, 0.1)]);
    },
    conv(x, outPixels, inC, outC, k, opts = {}) {
      macs += outPixels * inC * outC * k * k;
      const stride = opts.stride ?? 1;
      const w = L.randomWeight([outC, inC, k, k], inC * k * k, opts.gain ?? 1);
      const bias = L.randomWeight([outC], inC * k * k, 0.1);
      const p = Math.floor(k / 2);
      const pads = opts.asymmetricPad ? [0, 0, 1, 1] : [p, p, p, p];
      return g.op('Conv', [x, w, bias], { kernel_shape: [k, k], strides: [stride, stride], pads });
    },
    groupNorm(x, c, groups, eps = 1e-5) {
      const grouped = g.op('Reshape', [x, g.ints([0, groups, -1])]);
      const ones = g.consts(new Array<number>(groups).fill(1));
      const zeros = g.consts(new Array<number>(groups).fill(0));
      const normed = g.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: eps });
      const back = g.op('Reshape', [normed, g.op('Shape', [x])]);
      const gamma = g.weight([c, 1, 1], Float32Array.from({ length: c }, () => 1 + (rand() - 0.5) * 0.1), 'gn_gamma');
      const beta = g.weight([c, 1, 1], Float32Array.from({ length: c }, () => (rand() - 0.5) * 0.1), 'gn_beta');
      return g.op('Add', [g.op('Mul', [back, gamma]), beta]);
    },
    layerNorm(x, c) {
      const gamma = g.weight([c], Float32Array.from({ length: c }, () => 1 + (rand() - 0.5) * 0.1), 'ln_gamma');
      const beta = g.weight([c], Float32Array.from({ length: c }, () => (rand() - 0.5) * 0.1), 'ln_beta');
      return g.op('LayerNormalization', [x, gamma, beta], { axis: -1, epsilon: 1e-5 });
    },
    silu(x) {
      return g.op('Mul', [x, g.op('Sigmoid', [x])]);
    },
    gelu(x) {
      const erf = g.op('Erf', [g.op('Mul', [x, g.consts([Math.SQRT1_2], [])])]);
      return g.op('Mul', [g.op('Mul', [x, g.op('Add', [erf, g.consts([1], [])])]), g.consts([0.5], [])]);
    },
    attention(x, context, lq, lk, c, contextDim, heads, mask) {
      const d = c / heads;
      const kv = context ?? x;
      const kvDim = context ? contextDim : c;
      const q = L.linear(x, lq, c, c, { bias: false });
      const k = L.linear(kv, lk, kvDim, c, { bias: false });
      const v = L.linear(kv, lk, kvDim, c, { bias: false });
      macs += 2 * lq * lk * c; // QKᵀ and P·V over all heads
      const split = g.ints([0, 0, heads, d]);
      const qh = g.op('Transpose', [g.op('Reshape', [q, split])], { perm: [0, 2, 1, 3] }); // [B,h,Lq,d]
      const kT = g.op('Transpose', [g.op('Reshape', [k, split])], { perm: [0, 2, 3, 1] }); // [B,h,d,Lk]
      const vh = g.op('Transpose', [g.op('Reshape', [v, split])], { perm: [0, 2, 1, 3] }); // [B,h,Lk,d]
      let scores = g.op('Mul', [g.op('MatMul', [qh, kT]), g.consts([1 / Math.sqrt(d)], [])]);
      if (mask) scores = g.op('Add', [scores, mask]);
      const probs = g.op('Softmax', [scores], { axis: -1 });
      const ctx = g.op('Transpose', [g.op('MatMul', [probs, vh])], { perm: [0, 2, 1, 3] });
      const merged = g.op('Reshape', [ctx, g.ints([0, 0, c])]);
      return L.linear(merged, lq, c, c);
    },
  };
  return L;
}

/**
 * diffusers ResnetBlock2D on x [B, inC, H, W] (`pixels` = H·W): GN→SiLU→conv3×3 (+ temb proj) → GN→SiLU→conv3×3,
 * 1×1 shortcut when channels change.
 */
export function resnetBlock(
  L: Layers, x: string, pixels: number, inC: number, outC: number, groups: number,
  temb: { x: string; dim: number } | null, eps = 1e-5,
): string {
  const { g } = L;
  let h = L.conv(L.silu(L.groupNorm(x, inC, groups, eps)), pixels, inC, outC, 3);
  if (temb) {
    const t = L.linear(L.silu(temb.x), 1, temb.dim, outC); // [B, outC]
    h = g.op('Add', [h, g.op('Unsqueeze', [t, g.ints([2, 3])])]);
  }
  h = L.conv(L.silu(L.groupNorm(h, outC, groups, eps)), pixels, outC, outC, 3, { gain: 0.5 });
  const skip = inC === outC ? x : L.conv(x, pixels, inC, outC, 1);
  return g.op('Add', [skip, h]);
}

/**
 * diffusers Transformer2DModel with `use_linear_projection` (SD 2.x) on x [B, C, H, W] (`pixels` = H·W):
 * GN → [B,HW,C] → proj_in → BasicTransformerBlock (LN→self-attn, LN→cross-attn on `context` [B, contextLen,
 * contextDim], LN→GEGLU FF) → proj_out → back to [B,C,H,W] + x.
 */
export function transformer2d(
  L: Layers, x: string, pixels: number, c: number, groups: number, heads: number,
  context: string, contextLen: number, contextDim: number,
): string {
  const { g } = L;
  const tokens = g.op('Transpose', [g.op('Reshape', [L.groupNorm(x, c, groups, 1e-6), g.ints([0, c, -1])])], { perm: [0, 2, 1] });
  let h = L.linear(tokens, pixels, c, c);
  h = g.op('Add', [h, L.attention(L.layerNorm(h, c), null, pixels, pixels, c, c, heads)]);
  h = g.op('Add', [h, L.attention(L.layerNorm(h, c), context, pixels, contextLen, c, contextDim, heads)]);
  // GEGLU: proj to 2·4C, split, value·gelu(gate), then 4C → C.
  const ff = L.linear(L.layerNorm(h, c), pixels, c, 8 * c);
  const [value, gate] = g.opN('Split', [ff, g.ints([4 * c, 4 * c])], 2, { axis: -1 }) as [string, string];
  h = g.op('Add', [h, L.linear(g.op('Mul', [value, L.gelu(gate)]), pixels, 4 * c, c, { gain: 0.5 })]);
  const out = L.linear(h, pixels, c, c);
  const back = g.op('Reshape', [g.op('Transpose', [out], { perm: [0, 2, 1] }), g.op('Shape', [x])]);
  return g.op('Add', [back, x]);
}

/** diffusers Downsample2D (UNet): 3×3 conv, stride 2, pad 1; `outPixels` = output H·W. */
export const downsample = (L: Layers, x: string, outPixels: number, c: number): string =>
  L.conv(x, outPixels, c, c, 3, { stride: 2 });

/** diffusers Upsample2D: nearest ×2 (Resize) then 3×3 conv; `outPixels` = output H·W. */
export function upsample(L: Layers, x: string, outPixels: number, c: number): string {
  const up = L.g.op('Resize', [x, '', L.g.consts([1, 1, 2, 2])], { mode: 'nearest' });
  return L.conv(up, outPixels, c, c, 3);
}

/**
 * diffusers `get_timestep_embedding(t, dim, flip_sin_to_cos=True, downscale_freq_shift=0)` followed by
 * TimestepEmbedding (linear → SiLU → linear). `timestep` int64 [1] → [1, timeDim].
 */
export function timestepEmbedding(L: Layers, timestep: string, dim: number, timeDim: number): string {
  const { g } = L;
  const half = dim / 2;
  const freqs = Array.from({ length: half }, (_, i) => Math.exp((-Math.log(10000) * i) / half));
  const t = g.op('Unsqueeze', [g.op('Cast', [timestep], { to: 1 }), g.ints([1])]); // [1,1]
  const args = g.op('Mul', [t, g.consts(freqs, [1, half])]); // [1, half]
  const emb = g.op('Concat', [g.op('Cos', [args]), g.op('Sin', [args])], { axis: -1 });
  return L.linear(L.silu(L.linear(emb, 1, dim, timeDim)), 1, timeDim, timeDim);
}

/** diffusers VAE mid-block Attention (one head over C, GN first, residual) on x [B, C, H, W], `pixels` = H·W. */
export function vaeAttention(L: Layers, x: string, pixels: number, c: number, groups: number): string {
  const { g } = L;
  const tokens = g.op('Transpose', [g.op('Reshape', [L.groupNorm(x, c, groups, 1e-6), g.ints([0, c, -1])])], { perm: [0, 2, 1] });
  const attn = L.attention(tokens, null, pixels, pixels, c, c, 1);
  const back = g.op('Reshape', [g.op('Transpose', [attn], { perm: [0, 2, 1] }), g.op('Shape', [x])]);
  return g.op('Add', [back, x]);
}
