/** DDPM forward noising, as diffusers DDIMScheduler/LCMScheduler.add_noise: √ᾱ_t·x0 + √(1-ᾱ_t)·ε (float32 ops). */
const f = Math.fround;

export function addNoiseAlpha(alphaCumprod: number, original: Float32Array, noise: Float32Array): Float32Array {
  const a = f(Math.sqrt(alphaCumprod));
  const b = f(Math.sqrt(f(1 - alphaCumprod)));
  return original.map((x, i) => f(f(a * x) + f(b * noise[i]!)));
}
