/**
 * ControlNet plumbing shared by the ControlNet pipeline and the plain denoising loop: which UNet inputs take
 * residuals, how ControlNet outputs map onto them, the conditioning-scale feed, and "neutral" control feeds (zero
 * residuals / a black image at scale 0) for running a ControlNet-wired UNet without control.
 */
import { AppError } from '../../../protocol/errors';
import type { ComponentSpec } from '../manifest';
import type { SessionSource } from '../session';
import type { HostTensor, Tensor } from '../tensor';
import { floatTensor } from '../tensor-math';

type IoSpec = ComponentSpec['inputs'][number];

const UNET_CORE_INPUTS = new Set(['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond', 'controlnet_cond', 'controlnet_conds', 'conditioning_scale', 'conditioning_scales']);

/** The UNet's ControlNet-residual inputs (every input beyond the core ones), in manifest order. */
export const residualInputNames = (unet: ComponentSpec): string[] => unet.inputs.map((i) => i.name).filter((n) => !UNET_CORE_INPUTS.has(n));

/** Fused-ControlNet input names of a UNet (`controlnet_cond` + `conditioning_scale`, or diffusers' plural names), if any. */
export function fusedControlInputs(unet: ComponentSpec): { cond: IoSpec; scale: IoSpec; multi: boolean } | null {
  const find = (n: string) => unet.inputs.find((i) => i.name === n);
  const multi = !!find('controlnet_conds');
  const cond = find(multi ? 'controlnet_conds' : 'controlnet_cond');
  const scale = find(multi ? 'conditioning_scales' : 'conditioning_scale');
  return cond && scale ? { cond, scale, multi } : null;
}

/** A scalar feed in the declared float dtype and rank ([] when declared without dims, else all ones). */
export function scaleFeed(decl: IoSpec, scale: number): HostTensor {
  return floatTensor(decl.dtype, decl.dims.map(() => 1), Float32Array.from([scale]));
}

/** Fused feeds: the control image [1,3,H,W] in [0,1] ([1,1,3,H,W] for the plural names) and its scale. */
export function fusedControlFeeds(unet: ComponentSpec, cond: Float32Array, width: number, height: number, scale: number): Record<string, HostTensor> {
  const f = fusedControlInputs(unet);
  if (!f) throw new AppError('MODEL_MISMATCH', 'The UNet is marked as a fused ControlNet but lacks "controlnet_cond" / "conditioning_scale".');
  return {
    [f.cond.name]: floatTensor(f.cond.dtype, f.multi ? [1, 1, 3, height, width] : [1, 3, height, width], cond),
    [f.scale.name]: scaleFeed(f.scale, scale),
  };
}

/** ControlNet output name → UNet residual input name (same name, else positional over the unmatched inputs). */
export function residualMapping(controlnet: ComponentSpec, unet: ComponentSpec): Map<string, string> {
  const residualInputs = residualInputNames(unet);
  const outputs = controlnet.outputs.map((o) => o.name);
  if (outputs.length !== residualInputs.length) {
    throw new AppError('MODEL_MISMATCH', `The ControlNet has ${outputs.length} outputs but the UNet takes ${residualInputs.length} residual inputs.`);
  }
  const map = new Map<string, string>();
  const free = residualInputs.filter((n) => !outputs.includes(n));
  for (const o of outputs) map.set(o, residualInputs.includes(o) ? o : free.shift()!);
  return map;
}

export interface NeutralControlArgs {
  readonly unet: ComponentSpec;
  readonly controlnet: ComponentSpec | undefined;
  readonly sessions: SessionSource;
  /** Feeds for one ControlNet run (sample, timestep, encoder_hidden_states) — the values do not matter at scale 0. */
  readonly probe: { sample: HostTensor; timestep: HostTensor; hidden: Tensor };
  readonly width: number;
  readonly height: number;
}

/**
 * Feeds that make a ControlNet-wired UNet behave as without control, or null when the UNet needs none:
 * fused → a black control image at scale 0; residual inputs → zero tensors shaped like the ControlNet's outputs
 * (found by one ControlNet run; reused for every step).
 */
export async function neutralControlFeedsAsync(args: NeutralControlArgs): Promise<Record<string, HostTensor> | null> {
  const { unet, controlnet } = args;
  if (fusedControlInputs(unet)) return fusedControlFeeds(unet, new Float32Array(3 * args.width * args.height), args.width, args.height, 0);
  if (residualInputNames(unet).length === 0) return null;
  if (!controlnet) throw new AppError('MODEL_MISMATCH', 'The UNet takes ControlNet residuals but the model has no ControlNet.');
  const mapping = residualMapping(controlnet, unet);
  const session = await args.sessions.acquireAsync('controlnet');
  try {
    const feeds: Record<string, Tensor> = {
      sample: args.probe.sample,
      timestep: args.probe.timestep,
      encoder_hidden_states: args.probe.hidden,
      controlnet_cond: floatTensor(controlnet.inputs.find((i) => i.name === 'controlnet_cond')?.dtype ?? 'float32', [1, 3, args.height, args.width], new Float32Array(3 * args.width * args.height)),
    };
    const scale = controlnet.inputs.find((i) => i.name === 'conditioning_scale');
    if (scale) feeds.conditioning_scale = scaleFeed(scale, 0);
    const out = await session.runAsync(feeds);
    const zeros: Record<string, HostTensor> = {};
    for (const [name, t] of Object.entries(out)) {
      const n = t.dims.reduce((a, b) => a * b, 1);
      zeros[mapping.get(name) ?? name] = floatTensor(t.dtype, t.dims, new Float32Array(n));
      if (t.kind === 'device') t.dispose();
    }
    return zeros;
  } finally {
    await args.sessions.doneWithAsync('controlnet');
  }
}
