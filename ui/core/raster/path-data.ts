/**
 * SVG path data parser. Accepts the full SVG grammar (M L H V C S Q T A Z, absolute and relative, implicit
 * repeats, packed numbers like "1.5.5" and "10-5") and normalises it to absolute M / L / C / Q / Z — the subset
 * Figma itself emits in `vectorPaths`, `fillGeometry` and `strokeGeometry`. Arcs become cubics
 * (as the SVG 1.1 implementation notes, F.6 "elliptical arc implementation notes"). Pure.
 */
import { applyAffine, type Affine } from './affine';

/** One absolute command. `points` hold x, y pairs: M/L 1 point, Q 2, C 3, Z none. */
export interface PathSegment {
  readonly op: 'M' | 'L' | 'Q' | 'C' | 'Z';
  readonly points: readonly number[];
}

const ARITY: Readonly<Record<string, number>> = { M: 2, L: 2, H: 1, V: 1, C: 6, S: 4, Q: 4, T: 2, A: 7, Z: 0 };

function tokenize(d: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([MLHVCSQTAZmlhvcsqtaz])|([-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)|([\s,]+)|(.)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(d)) !== null) {
    if (m[1]) out.push(m[1]);
    else if (m[2]) out.push(Number(m[2]));
    else if (m[4]) throw new Error(`Path data has an unexpected character "${m[4]}" at ${m.index}: "${d.slice(Math.max(0, m.index - 10), m.index + 10)}".`);
  }
  return out;
}

/**
 * Parses SVG path data into absolute M/L/C/Q/Z segments. Throws an Error naming the position on malformed data
 * (a number before the first command, a missing coordinate, an unknown letter).
 */
export function parsePathData(d: string): PathSegment[] {
  const tokens = tokenize(d);
  const out: PathSegment[] = [];
  let i = 0;
  let cmd = '';
  let cx = 0, cy = 0; // current point
  let sx = 0, sy = 0; // subpath start
  let lastCtrl: { x: number; y: number; op: 'C' | 'Q' } | null = null;
  const num = (): number => {
    const t = tokens[i++];
    if (typeof t !== 'number' || !Number.isFinite(t)) {
      throw new Error(`Path data is missing a number for "${cmd}" (token ${i - 1}) in "${d.slice(0, 60)}".`);
    }
    return t;
  };
  while (i < tokens.length) {
    const t = tokens[i]!;
    if (typeof t === 'string') {
      cmd = t;
      i++;
      if (cmd === 'Z' || cmd === 'z') {
        out.push({ op: 'Z', points: [] });
        cx = sx;
        cy = sy;
        lastCtrl = null;
        continue;
      }
    } else if (!cmd || cmd === 'Z' || cmd === 'z') {
      throw new Error(`Path data has a number where a command is expected (token ${i}) in "${d.slice(0, 60)}".`);
    }
    const rel = cmd === cmd.toLowerCase();
    const up = cmd.toUpperCase();
    if (ARITY[up] === undefined) throw new Error(`Unknown path command "${cmd}".`);
    const ox = rel ? cx : 0;
    const oy = rel ? cy : 0;
    switch (up) {
      case 'M': {
        cx = ox + num();
        cy = oy + num();
        sx = cx;
        sy = cy;
        out.push({ op: 'M', points: [cx, cy] });
        cmd = rel ? 'l' : 'L'; // following pairs are implicit line-tos
        lastCtrl = null;
        break;
      }
      case 'L':
        cx = ox + num();
        cy = oy + num();
        out.push({ op: 'L', points: [cx, cy] });
        lastCtrl = null;
        break;
      case 'H':
        cx = ox + num();
        out.push({ op: 'L', points: [cx, cy] });
        lastCtrl = null;
        break;
      case 'V':
        cy = (rel ? cy : 0) + num();
        out.push({ op: 'L', points: [cx, cy] });
        lastCtrl = null;
        break;
      case 'C': {
        const x1 = ox + num(), y1 = oy + num(), x2 = ox + num(), y2 = oy + num();
        cx = ox + num();
        cy = oy + num();
        out.push({ op: 'C', points: [x1, y1, x2, y2, cx, cy] });
        lastCtrl = { x: x2, y: y2, op: 'C' };
        break;
      }
      case 'S': {
        const x1: number = lastCtrl?.op === 'C' ? 2 * cx - lastCtrl.x : cx;
        const y1: number = lastCtrl?.op === 'C' ? 2 * cy - lastCtrl.y : cy;
        const x2 = ox + num(), y2 = oy + num();
        cx = ox + num();
        cy = oy + num();
        out.push({ op: 'C', points: [x1, y1, x2, y2, cx, cy] });
        lastCtrl = { x: x2, y: y2, op: 'C' };
        break;
      }
      case 'Q': {
        const x1 = ox + num(), y1 = oy + num();
        cx = ox + num();
        cy = oy + num();
        out.push({ op: 'Q', points: [x1, y1, cx, cy] });
        lastCtrl = { x: x1, y: y1, op: 'Q' };
        break;
      }
      case 'T': {
        const x1: number = lastCtrl?.op === 'Q' ? 2 * cx - lastCtrl.x : cx;
        const y1: number = lastCtrl?.op === 'Q' ? 2 * cy - lastCtrl.y : cy;
        cx = ox + num();
        cy = oy + num();
        out.push({ op: 'Q', points: [x1, y1, cx, cy] });
        lastCtrl = { x: x1, y: y1, op: 'Q' };
        break;
      }
      case 'A': {
        const rx = num(), ry = num(), phi = num(), large = num(), sweep = num();
        const x = ox + num(), y = oy + num();
        for (const seg of arcToCubics(cx, cy, rx, ry, phi, large !== 0, sweep !== 0, x, y)) out.push(seg);
        cx = x;
        cy = y;
        lastCtrl = null;
        break;
      }
    }
  }
  return out;
}

/** SVG endpoint arc → cubic segments of ≤ 90° each (SVG 1.1 F.6.5 / F.6.6). */
function arcToCubics(
  x1: number, y1: number, rxIn: number, ryIn: number, phiDeg: number, large: boolean, sweep: boolean, x2: number, y2: number,
): PathSegment[] {
  let rx = Math.abs(rxIn);
  let ry = Math.abs(ryIn);
  if ((x1 === x2 && y1 === y2)) return [];
  if (rx === 0 || ry === 0) return [{ op: 'L', points: [x2, y2] }];
  const phi = (phiDeg * Math.PI) / 180;
  const cos = Math.cos(phi), sin = Math.sin(phi);
  const dx = (x1 - x2) / 2, dy = (y1 - y2) / 2;
  const x1p = cos * dx + sin * dy;
  const y1p = -sin * dx + cos * dy;
  const lambda = (x1p * x1p) / (rx * rx) + (y1p * y1p) / (ry * ry);
  if (lambda > 1) {
    const s = Math.sqrt(lambda);
    rx *= s;
    ry *= s;
  }
  const num = rx * rx * ry * ry - rx * rx * y1p * y1p - ry * ry * x1p * x1p;
  const den = rx * rx * y1p * y1p + ry * ry * x1p * x1p;
  let coef = Math.sqrt(Math.max(0, num / den));
  if (large === sweep) coef = -coef;
  const cxp = (coef * rx * y1p) / ry;
  const cyp = (-coef * ry * x1p) / rx;
  const cx = cos * cxp - sin * cyp + (x1 + x2) / 2;
  const cy = sin * cxp + cos * cyp + (y1 + y2) / 2;
  const angle = (ux: number, uy: number, vx: number, vy: number): number => {
    const a = Math.atan2(ux * vy - uy * vx, ux * vx + uy * vy);
    return a;
  };
  const theta1 = angle(1, 0, (x1p - cxp) / rx, (y1p - cyp) / ry);
  let dtheta = angle((x1p - cxp) / rx, (y1p - cyp) / ry, (-x1p - cxp) / rx, (-y1p - cyp) / ry);
  if (!sweep && dtheta > 0) dtheta -= 2 * Math.PI;
  if (sweep && dtheta < 0) dtheta += 2 * Math.PI;
  const n = Math.max(1, Math.ceil(Math.abs(dtheta) / (Math.PI / 2) - 1e-9));
  const delta = dtheta / n;
  const k = (4 / 3) * Math.tan(delta / 4);
  const out: PathSegment[] = [];
  const pt = (t: number): [number, number, number, number] => {
    const ct = Math.cos(t), st = Math.sin(t);
    // point and derivative on the ellipse, rotated by phi
    return [
      cx + rx * ct * cos - ry * st * sin,
      cy + rx * ct * sin + ry * st * cos,
      -rx * st * cos - ry * ct * sin,
      -rx * st * sin + ry * ct * cos,
    ];
  };
  for (let s = 0; s < n; s++) {
    const t0 = theta1 + s * delta;
    const t1 = t0 + delta;
    const [ax, ay, adx, ady] = pt(t0);
    const [bx, by, bdx, bdy] = pt(t1);
    const last = s === n - 1;
    out.push({ op: 'C', points: [ax + k * adx, ay + k * ady, bx - k * bdx, by - k * bdy, last ? x2 : bx, last ? y2 : by] });
  }
  return out;
}

/** Maps every point of the segments by `m` (affine maps keep lines, quadratics and cubics exact). */
export function transformSegments(segments: readonly PathSegment[], m: Affine): PathSegment[] {
  return segments.map((s) => {
    const pts: number[] = [];
    for (let k = 0; k < s.points.length; k += 2) {
      const p = applyAffine(m, s.points[k]!, s.points[k + 1]!);
      pts.push(p.x, p.y);
    }
    return { op: s.op, points: pts };
  });
}

const fmt = (v: number): string => {
  const r = Math.round(v * 1000) / 1000;
  return Object.is(r, -0) ? '0' : String(r);
};

/** Formats segments as Figma-style path data ("M 0 0 L 10 0 Z"). */
export function formatPathData(segments: readonly PathSegment[]): string {
  return segments.map((s) => (s.op === 'Z' ? 'Z' : `${s.op} ${s.points.map(fmt).join(' ')}`)).join(' ');
}

/** Axis-aligned bounds of the segments' points (control points included: a safe over-estimate), or null. */
export function segmentsBounds(segments: readonly PathSegment[]): { x: number; y: number; width: number; height: number } | null {
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  for (const s of segments) {
    for (let k = 0; k < s.points.length; k += 2) {
      const x = s.points[k]!, y = s.points[k + 1]!;
      if (x < x0) x0 = x;
      if (x > x1) x1 = x;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
    }
  }
  return x0 === Infinity ? null : { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}
