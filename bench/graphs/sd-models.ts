/**
 * Generated SD-shaped models for the bench: the real SD 2.x / SD-Turbo topologies and I/O (names, dtypes, tensor sizes)
 * with reduced channel widths, seeded random weights, opset 17.
 *
 * - text encoder: `input_ids` int32 [1,77] → `last_hidden_state` float32 [1,77,D] (CLIP: token + position embedding,
 *   causal pre-LN transformer layers, final LN). The 49408-row token table is folded to `vocabRows` rows with Mod
 *   (ids % vocabRows) so the weights stay small; the Gather is the same op.
 * - UNet (diffusers UNet2DConditionModel, SD 2.x layout): `sample` [B,4,S,S], `timestep` int64 [1],
 *   `encoder_hidden_states` [B,77,D] (+ the 13 ControlNet residual inputs when `controlnetResiduals`) → `out_sample`.
 *   4 levels (CrossAttnDown ×3 + Down, mid with attention, Up + CrossAttnUp ×3), 2 resnets per down level, 3 per up
 *   level, skip connections by Concat, timestep embedding.
 * - VAE decoder (diffusers Decoder): `latent_sample` [B,4,S,S] → `sample` [B,3,8S,8S].
 * - VAE encoder (diffusers Encoder + quant_conv): `sample` [B,3,8S,8S] → `latent_sample` [B,4,S,S] (the latent
 *   distribution's mean: a sampled latent would need RandomNormalLike and make runs non-deterministic).
 * - ControlNet (diffusers ControlNetModel, Axodox/OnnxStack I/O): `sample`, `timestep`, `encoder_hidden_states`,
 *   `controlnet_cond` [B,3,8S,8S], `conditioning_scale` float32 [1] → `down_block_{0..11}_additional_residual`,
 *   `mid_block_additional_residual`.
 */
import { createGraphBuilder, type GraphBuilder, type GraphDim } from './graph-builder';
import {
  createLayers, downsample, resnetBlock, timestepEmbedding, transformer2d, upsample, vaeAttention, type Layers,
} from './sd-layers';

export interface SdBenchConfig {
  /** Latent side S (64 → 512² images). */
  readonly latentSize: number;
  /** Text tokens (77). */
  readonly textLength: number;
  /** Text hidden size D = UNet cross-attention dim (1024 for SD 2.x / SD-Turbo). */
  readonly contextDim: number;
  readonly textLayers: number;
  readonly textHeads: number;
  readonly vocabRows: number;
  /** UNet block_out_channels (SD 2.x: 320, 640, 1280, 1280). */
  readonly unetChannels: readonly [number, number, number, number];
  /** Attention head dim (SD 2.x: 64). */
  readonly headDim: number;
  /** GroupNorm groups (SD: 32); must divide every channel count. */
  readonly groups: number;
  /** VAE block_out_channels (SD: 128, 256, 512, 512). */
  readonly vaeChannels: readonly [number, number, number, number];
  /** ControlNet conditioning-embedding channels (SD: 16, 32, 96, 256). */
  readonly condChannels: readonly [number, number, number, number];
}

/** Real tensor sizes (512² images, 77×1024 text), widths cut so a 2-core CPU finishes the bench in minutes. */
export const BENCH_CONFIG: SdBenchConfig = {
  latentSize: 64,
  textLength: 77,
  contextDim: 1024,
  textLayers: 1,
  textHeads: 16,
  vocabRows: 256,
  unetChannels: [40, 80, 160, 160],
  headDim: 40,
  groups: 8,
  vaeChannels: [16, 32, 64, 64],
  condChannels: [8, 8, 16, 16],
};

/** Tiny sizes for WebGPU-SwiftShader (~50× slower than wasm): 64² images, 8×8 latents, 77×64 text. */
export const TINY_CONFIG: SdBenchConfig = {
  latentSize: 8,
  textLength: 77,
  contextDim: 64,
  textLayers: 1,
  textHeads: 2,
  vocabRows: 256,
  unetChannels: [16, 16, 32, 32],
  headDim: 16,
  groups: 4,
  vaeChannels: [8, 8, 16, 16],
  condChannels: [8, 8, 8, 8],
};

export interface GeneratedModel {
  readonly bytes: Uint8Array;
  readonly inputs: readonly { name: string; dtype: 'float32' | 'int32' | 'int64'; dims: readonly GraphDim[] }[];
  readonly outputs: readonly { name: string; dtype: 'float32' | 'int32' | 'int64'; dims: readonly GraphDim[] }[];
  readonly params: number;
  /** Multiply-accumulates of one run at batch 1 (convs + matmuls). */
  readonly macs: number;
  readonly opCounts: Readonly<Record<string, number>>;
}

/** ControlNet residual names (Axodox / OnnxStack export), in UNet down-block order, then the mid residual. */
export const CONTROLNET_RESIDUALS: readonly string[] = [
  ...Array.from({ length: 12 }, (_, i) => `down_block_${i}_additional_residual`),
  'mid_block_additional_residual',
];

type Io = GeneratedModel['inputs'][number];

function finish(g: GraphBuilder, L: Layers, name: string, inputs: Io[], outputs: Io[]): GeneratedModel {
  return { bytes: g.toBytes(name), inputs, outputs, params: g.paramCount(), macs: L.macs(), opCounts: g.opCounts() };
}

/** CLIP text encoder (OpenCLIP-H layout as in SD 2.x, fewer layers): `input_ids` int32 [1,77] → `last_hidden_state`. */
export function buildTextEncoder(cfg: SdBenchConfig, seed = 1): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, seed);
  const n = cfg.textLength;
  const d = cfg.contextDim;
  const ids = g.input('input_ids', 'int32', [1, n]);
  const rows = g.op('Mod', [g.op('Cast', [ids], { to: 7 }), g.ints([cfg.vocabRows], [])]);
  const table = L.randomWeight([cfg.vocabRows, d], 1, 0.5);
  const pos = L.randomWeight([n, d], 1, 0.1);
  let h = g.op('Add', [g.op('Gather', [table, rows], { axis: 0 }), pos]);
  const maskData = new Float32Array(n * n);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) maskData[i * n + j] = -1e9;
  const mask = g.weight([1, 1, n, n], maskData, 'causal_mask');
  for (let l = 0; l < cfg.textLayers; l++) {
    h = g.op('Add', [h, L.attention(L.layerNorm(h, d), null, n, n, d, d, cfg.textHeads, mask)]);
    const mlp = L.linear(L.gelu(L.linear(L.layerNorm(h, d), n, d, 4 * d)), n, 4 * d, d, { gain: 0.5 });
    h = g.op('Add', [h, mlp]);
  }
  g.output(L.layerNorm(h, d), 'last_hidden_state', 'float32', [1, n, d]);
  return finish(g, L, 'text_encoder', [{ name: 'input_ids', dtype: 'int32', dims: [1, n] }], [
    { name: 'last_hidden_state', dtype: 'float32', dims: [1, n, d] },
  ]);
}

interface Skip { name: string; c: number }

/** The UNet encoder half shared by the UNet and the ControlNet: time embedding, conv_in, down blocks, mid block. */
function unetEncoder(L: Layers, cfg: SdBenchConfig, sample: string, timestep: string, context: string, addToConvIn?: string) {
  const { g } = L;
  const ch = cfg.unetChannels;
  const c0 = ch[0];
  const timeDim = 4 * c0;
  const temb = { x: timestepEmbedding(L, timestep, c0, timeDim), dim: timeDim };
  let s = cfg.latentSize;
  let h = L.conv(sample, s * s, 4, c0, 3);
  if (addToConvIn) h = g.op('Add', [h, addToConvIn]);
  const skips: Skip[] = [{ name: h, c: c0 }];
  let c = c0;
  const heads = (width: number) => Math.max(1, width / cfg.headDim);
  for (let level = 0; level < 4; level++) {
    const out = ch[level] as number;
    for (let j = 0; j < 2; j++) {
      h = resnetBlock(L, h, s * s, c, out, cfg.groups, temb);
      c = out;
      if (level < 3) h = transformer2d(L, h, s * s, c, cfg.groups, heads(c), context, cfg.textLength, cfg.contextDim);
      skips.push({ name: h, c });
    }
    if (level < 3) {
      s /= 2;
      h = downsample(L, h, s * s, c);
      skips.push({ name: h, c });
    }
  }
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, temb);
  h = transformer2d(L, h, s * s, c, cfg.groups, heads(c), context, cfg.textLength, cfg.contextDim);
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, temb);
  return { h, c, s, skips, temb, heads };
}

const batch = 'batch';

/** UNet2DConditionModel; with `controlnetResiduals` it also takes the 13 ControlNet residuals as inputs. */
export function buildUnet(cfg: SdBenchConfig, opts: { controlnetResiduals?: boolean; seed?: number } = {}): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, opts.seed ?? 2);
  const S = cfg.latentSize;
  const inputs: Io[] = [
    { name: 'sample', dtype: 'float32', dims: [batch, 4, S, S] },
    { name: 'timestep', dtype: 'int64', dims: [1] },
    { name: 'encoder_hidden_states', dtype: 'float32', dims: [batch, cfg.textLength, cfg.contextDim] },
  ];
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);
  const enc = unetEncoder(L, cfg, 'sample', 'timestep', 'encoder_hidden_states');
  let { h, c, s } = enc;
  const skips = enc.skips;
  if (opts.controlnetResiduals) {
    const shapes = residualShapes(cfg);
    skips.forEach((sk, i) => {
      const r = CONTROLNET_RESIDUALS[i] as string;
      const dims = shapes[i] as readonly number[];
      inputs.push({ name: r, dtype: 'float32', dims: [batch, ...dims.slice(1)] });
      g.input(r, 'float32', [batch, ...dims.slice(1)]);
      sk.name = g.op('Add', [sk.name, r]);
    });
    const mid = CONTROLNET_RESIDUALS[12] as string;
    inputs.push({ name: mid, dtype: 'float32', dims: [batch, c, s, s] });
    g.input(mid, 'float32', [batch, c, s, s]);
    h = g.op('Add', [h, mid]);
  }
  const ch = cfg.unetChannels;
  for (let level = 3; level >= 0; level--) {
    const out = ch[level] as number;
    for (let j = 0; j < 3; j++) {
      const skip = skips.pop() as Skip;
      h = resnetBlock(L, g.op('Concat', [h, skip.name], { axis: 1 }), s * s, c + skip.c, out, cfg.groups, enc.temb);
      c = out;
      if (level < 3) h = transformer2d(L, h, s * s, c, cfg.groups, enc.heads(c), 'encoder_hidden_states', cfg.textLength, cfg.contextDim);
    }
    if (level > 0) {
      s *= 2;
      h = upsample(L, h, s * s, c);
    }
  }
  const out = L.conv(L.silu(L.groupNorm(h, c, cfg.groups)), S * S, c, 4, 3, { gain: 0.5 });
  g.output(out, 'out_sample', 'float32', [batch, 4, S, S]);
  return finish(g, L, 'unet', inputs, [{ name: 'out_sample', dtype: 'float32', dims: [batch, 4, S, S] }]);
}

/** Shapes [1, C, H, W] of the 12 down residuals then the mid residual, as the ControlNet emits them. */
export function residualShapes(cfg: SdBenchConfig): number[][] {
  const ch = cfg.unetChannels;
  let s = cfg.latentSize;
  const shapes: number[][] = [[1, ch[0], s, s]];
  for (let level = 0; level < 4; level++) {
    shapes.push([1, ch[level] as number, s, s], [1, ch[level] as number, s, s]);
    if (level < 3) {
      s /= 2;
      shapes.push([1, ch[level] as number, s, s]);
    }
  }
  shapes.push([1, ch[3], s, s]);
  return shapes;
}

/** ControlNetModel: UNet encoder + conditioning embedding + zero-conv (here: small 1×1) residual heads × scale. */
export function buildControlNet(cfg: SdBenchConfig, seed = 3): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, seed);
  const S = cfg.latentSize;
  const inputs: Io[] = [
    { name: 'sample', dtype: 'float32', dims: [batch, 4, S, S] },
    { name: 'timestep', dtype: 'int64', dims: [1] },
    { name: 'encoder_hidden_states', dtype: 'float32', dims: [batch, cfg.textLength, cfg.contextDim] },
    { name: 'controlnet_cond', dtype: 'float32', dims: [batch, 3, 8 * S, 8 * S] },
    { name: 'conditioning_scale', dtype: 'float32', dims: [1] },
  ];
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);
  // ControlNetConditioningEmbedding: conv_in, (conv, conv stride 2) × 3, conv_out, SiLU between.
  const cc = cfg.condChannels;
  let side = 8 * S;
  let e = L.silu(L.conv('controlnet_cond', side * side, 3, cc[0], 3));
  for (let i = 0; i < 3; i++) {
    e = L.silu(L.conv(e, side * side, cc[i] as number, cc[i] as number, 3));
    side /= 2;
    e = L.silu(L.conv(e, side * side, cc[i] as number, cc[i + 1] as number, 3, { stride: 2 }));
  }
  const cond = L.conv(e, S * S, cc[3], cfg.unetChannels[0], 3, { gain: 0.1 });
  const enc = unetEncoder(L, cfg, 'sample', 'timestep', 'encoder_hidden_states', cond);
  const shapes = residualShapes(cfg);
  const outputs: Io[] = [];
  const heads = [...enc.skips.map((sk) => sk), { name: enc.h, c: enc.c }];
  heads.forEach((sk, i) => {
    const dims = shapes[i] as number[];
    const pixels = (dims[2] as number) * (dims[3] as number);
    const r = g.op('Mul', [L.conv(sk.name, pixels, sk.c, sk.c, 1, { gain: 0.1 }), 'conditioning_scale']);
    const name = CONTROLNET_RESIDUALS[i] as string;
    const io: Io = { name, dtype: 'float32', dims: [batch, ...dims.slice(1)] };
    g.output(r, name, io.dtype, io.dims);
    outputs.push(io);
  });
  return finish(g, L, 'controlnet', inputs, outputs);
}

/** VAE Decoder: post_quant_conv, conv_in, mid (resnet, attention, resnet), 4 up blocks × 3 resnets, conv_out. */
export function buildVaeDecoder(cfg: SdBenchConfig, seed = 4): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, seed);
  const S = cfg.latentSize;
  const eps = 1e-6;
  g.input('latent_sample', 'float32', [batch, 4, S, S]);
  const rev = [...cfg.vaeChannels].reverse();
  let s = S;
  let c = rev[0] as number;
  let h = L.conv(L.conv('latent_sample', s * s, 4, 4, 1), s * s, 4, c, 3);
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, null, eps);
  h = vaeAttention(L, h, s * s, c, cfg.groups);
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, null, eps);
  for (let i = 0; i < 4; i++) {
    const out = rev[i] as number;
    for (let j = 0; j < 3; j++) {
      h = resnetBlock(L, h, s * s, c, out, cfg.groups, null, eps);
      c = out;
    }
    if (i < 3) {
      s *= 2;
      h = upsample(L, h, s * s, c);
    }
  }
  h = L.conv(L.silu(L.groupNorm(h, c, cfg.groups, eps)), s * s, c, 3, 3, { gain: 0.5 });
  g.output(h, 'sample', 'float32', [batch, 3, 8 * S, 8 * S]);
  return finish(g, L, 'vae_decoder', [{ name: 'latent_sample', dtype: 'float32', dims: [batch, 4, S, S] }], [
    { name: 'sample', dtype: 'float32', dims: [batch, 3, 8 * S, 8 * S] },
  ]);
}

/** VAE Encoder + quant_conv: conv_in, 4 down blocks × 2 resnets (asymmetric-pad stride-2 downsample), mid, conv_out → mean. */
export function buildVaeEncoder(cfg: SdBenchConfig, seed = 5): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, seed);
  const S = cfg.latentSize;
  const eps = 1e-6;
  g.input('sample', 'float32', [batch, 3, 8 * S, 8 * S]);
  const ch = cfg.vaeChannels;
  let s = 8 * S;
  let c = ch[0];
  let h = L.conv('sample', s * s, 3, c, 3);
  for (let i = 0; i < 4; i++) {
    const out = ch[i] as number;
    for (let j = 0; j < 2; j++) {
      h = resnetBlock(L, h, s * s, c, out, cfg.groups, null, eps);
      c = out;
    }
    if (i < 3) {
      s /= 2;
      h = L.conv(h, s * s, c, c, 3, { stride: 2, asymmetricPad: true });
    }
  }
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, null, eps);
  h = vaeAttention(L, h, s * s, c, cfg.groups);
  h = resnetBlock(L, h, s * s, c, c, cfg.groups, null, eps);
  const moments = L.conv(L.conv(L.silu(L.groupNorm(h, c, cfg.groups, eps)), s * s, c, 8, 3), s * s, 8, 8, 1);
  const mean = g.op('Slice', [moments, g.ints([0]), g.ints([4]), g.ints([1])]);
  g.output(mean, 'latent_sample', 'float32', [batch, 4, S, S]);
  return finish(g, L, 'vae_encoder', [{ name: 'sample', dtype: 'float32', dims: [batch, 3, 8 * S, 8 * S] }], [
    { name: 'latent_sample', dtype: 'float32', dims: [batch, 4, S, S] },
  ]);
}

/**
 * One CrossAttnDownBlock2D at `channels` and `side`² (full width: 320 at 64×64, heads of 64): 2 × (resnet +
 * transformer) + downsample. Inputs `hidden_states` [1,C,side,side], `temb` [1,4C'], `encoder_hidden_states`
 * [1,77,D] → `block_out` [1,C,side/2,side/2]. Used to check that the op mix scales from the reduced widths.
 */
export function buildUnetBlock(opts: { channels: number; side: number; headDim: number; groups: number; contextDim: number; textLength: number; timeDim: number; seed?: number }): GeneratedModel {
  const g = createGraphBuilder();
  const L = createLayers(g, opts.seed ?? 6);
  const { channels: c, side, textLength, contextDim } = opts;
  const inputs: Io[] = [
    { name: 'hidden_states', dtype: 'float32', dims: [1, c, side, side] },
    { name: 'temb', dtype: 'float32', dims: [1, opts.timeDim] },
    { name: 'encoder_hidden_states', dtype: 'float32', dims: [1, textLength, contextDim] },
  ];
  for (const i of inputs) g.input(i.name, i.dtype, i.dims);
  const temb = { x: 'temb', dim: opts.timeDim };
  let h = 'hidden_states';
  const heads = Math.max(1, c / opts.headDim);
  for (let j = 0; j < 2; j++) {
    h = resnetBlock(L, h, side * side, c, c, opts.groups, temb);
    h = transformer2d(L, h, side * side, c, opts.groups, heads, 'encoder_hidden_states', textLength, contextDim);
  }
  h = downsample(L, h, (side / 2) ** 2, c);
  const dims = [1, c, side / 2, side / 2];
  g.output(h, 'block_out', 'float32', dims);
  return finish(g, L, 'unet_block', inputs, [{ name: 'block_out', dtype: 'float32', dims }]);
}
