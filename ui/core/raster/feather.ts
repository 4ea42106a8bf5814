/**
 * Soft edges for masks: a Gaussian blur approximated by three successive box blurs (W. Wells, "Efficient synthesis
 * of Gaussian filters by cascaded uniform filters", 1986; box sizes as in I. Kutskir's "Fastest Gaussian blur").
 * Edges are clamped (the border value extends outward). Pure.
 */

/** Box widths (odd) whose 3-fold cascade has standard deviation ≈ sigma. */
function boxSizes(sigma: number, n = 3): number[] {
  const wIdeal = Math.sqrt((12 * sigma * sigma) / n + 1);
  let wl = Math.floor(wIdeal);
  if (wl % 2 === 0) wl--;
  const wu = wl + 2;
  const mIdeal = (12 * sigma * sigma - n * wl * wl - 4 * n * wl - 3 * n) / (-4 * wl - 4);
  const m = Math.round(mIdeal);
  return Array.from({ length: n }, (_, i) => (i < m ? wl : wu));
}

function boxBlurLine(src: Float32Array, dst: Float32Array, start: number, stride: number, len: number, r: number): void {
  if (r <= 0) {
    for (let i = 0; i < len; i++) dst[start + i * stride] = src[start + i * stride]!;
    return;
  }
  const at = (i: number): number => src[start + Math.min(len - 1, Math.max(0, i)) * stride]!;
  const inv = 1 / (2 * r + 1);
  let acc = 0;
  for (let i = -r; i <= r; i++) acc += at(i);
  for (let i = 0; i < len; i++) {
    dst[start + i * stride] = acc * inv;
    acc += at(i + r + 1) - at(i - r);
  }
}

/**
 * Blurs a single-channel `width`×`height` image (values typically in [0, 1]) with a Gaussian of standard
 * deviation `radius / 2`, so a hard edge turns into a ramp about `2·radius` px wide. `radius` ≤ 0 returns a copy.
 */
export function featherValues(values: Float32Array, width: number, height: number, radius: number): Float32Array {
  let a: Float32Array = new Float32Array(values);
  if (!(radius > 0) || width === 0 || height === 0) return a;
  let b: Float32Array = new Float32Array(values.length);
  for (const size of boxSizes(radius / 2)) {
    const r = (size - 1) >> 1;
    for (let y = 0; y < height; y++) boxBlurLine(a, b, y * width, 1, width, r);
    [a, b] = [b, a];
    for (let x = 0; x < width; x++) boxBlurLine(a, b, x, width, height, r);
    [a, b] = [b, a];
  }
  return a;
}
