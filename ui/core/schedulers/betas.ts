/**
 * Training noise schedule shared by all schedulers, with torch's float32 numerics (they matter for golden numbers):
 * torch.linspace in float32, betas → alphas → cumprod accumulated in double with float32 outputs.
 */
import type { SchedulerConfig } from '../manifest';

const f = Math.fround;

/** torch.linspace(start, end, steps, dtype=float32): step in float32, first half from start, second half from end. */
export function torchLinspaceF32(start: number, end: number, steps: number): Float32Array {
  const out = new Float32Array(steps);
  if (steps === 1) {
    out[0] = start;
    return out;
  }
  const s = f(start);
  const e = f(end);
  const step = f(f(e - s) / (steps - 1));
  const halfway = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) {
    out[i] = i < halfway ? f(s + f(step * i)) : f(e - f(step * (steps - i - 1)));
  }
  return out;
}

/** betas as diffusers: "linear" = linspace(bs, be); "scaled_linear" = linspace(√bs, √be)² (float32). */
export function makeBetas(config: SchedulerConfig): Float32Array {
  const n = config.num_train_timesteps;
  if (config.beta_schedule === 'linear') return torchLinspaceF32(config.beta_start, config.beta_end, n);
  const roots = torchLinspaceF32(Math.sqrt(config.beta_start), Math.sqrt(config.beta_end), n);
  return roots.map((r) => f(r * r));
}

/** torch.cumprod(1 - betas) on CPU: the running product is kept in double, each output rounded to float32. */
export function makeAlphasCumprod(config: SchedulerConfig): Float32Array {
  const betas = makeBetas(config);
  const out = new Float32Array(betas.length);
  let acc = 1;
  for (let i = 0; i < betas.length; i++) {
    acc *= f(1 - betas[i]!);
    out[i] = acc;
  }
  return out;
}
