/**
 * A seeded message fuzzer for both sides of the plugin ↔ UI bridge. It takes valid protocol messages as templates and
 * breaks them the ways a buggy or hostile sender would: deleted and retyped fields (at any depth), numbers at and
 * past every limit, NaN/±Infinity/-0, huge and invisible strings, bidi controls, wrong typed arrays, other messages'
 * tags, prototype-pollution keys (`__proto__`, `constructor.prototype`), deep nesting, and plain junk.
 * Every message is built from data only (what postMessage can carry), so it reaches the receiver as it would in Figma.
 *
 * Size: FUZZ_MESSAGES=10000 (nightly) or the default slice per side in `npm test`; FUZZ_SEED picks the seed.
 */
import { seededRandom } from '../helpers/seeded-random';

export const FUZZ_MESSAGES = Number(process.env.FUZZ_MESSAGES ?? 0) || 0;
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 15) || 15;

type Json = unknown;

const NASTY_NUMBERS = [0, -0, -1, 1, 0.5, 63, 64, 4096, 4097, 16384, 16385, 2 ** 31, 2 ** 32 - 1, 2 ** 53, 1e9, 9e15, -9e15, 1e308, NaN, Infinity, -Infinity];
const NASTY_STRINGS = [
  '', ' ', '\u200B\u200C\u200D\uFEFF', '\u202Egnp.exe', 'a\u0000b', '__proto__', 'constructor', 'prototype', 'toString',
  'x'.repeat(101), 'y'.repeat(2001), '🙂'.repeat(300), '<img src=x onerror=alert(1)>', '../../etc/passwd', 'NaN', '1e9',
  'insert-result', 'prepare-job', 'error', 'ack', 'generate', 'replace-fill', 'DEVICE_LOST',
];

export interface Fuzzer {
  /** The next fuzzed message, from one of the templates (or junk). */
  next(templates: readonly Json[]): Json;
  readonly random: () => number;
}

export function createFuzzer(seed: number): Fuzzer {
  const random = seededRandom(seed);
  const int = (n: number): number => Math.floor(random() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)] as T;

  const junk = (depth = 0): Json => {
    switch (int(depth > 3 ? 6 : 10)) {
      case 0: return pick(NASTY_NUMBERS);
      case 1: return pick(NASTY_STRINGS);
      case 2: return null;
      case 3: return undefined;
      case 4: return random() < 0.5;
      case 5: return new Uint8Array(int(40)).map(() => int(256));
      case 6: return Array.from({ length: int(4) }, () => junk(depth + 1));
      case 7: return Object.fromEntries(Array.from({ length: int(4) }, () => [pick(NASTY_STRINGS), junk(depth + 1)]));
      case 8: return pollution();
      default: {
        let deep: Json = { end: true };
        for (let i = 0; i < 40 + int(200); i++) deep = random() < 0.5 ? [deep] : { d: deep };
        return deep;
      }
    }
  };

  /** Own `__proto__` / `constructor.prototype` keys, as JSON.parse makes them (an assignment would set the prototype). */
  const pollution = (): Json => pick([
    () => JSON.parse('{"__proto__":{"polluted":"yes","isAdmin":true}}'),
    () => JSON.parse('{"constructor":{"prototype":{"polluted":"yes"}}}'),
    () => JSON.parse('{"__proto__":{"__proto__":{"polluted":"yes"}}}'),
    () => JSON.parse('{"prototype":{"polluted":"yes"},"toString":"nope","valueOf":1,"hasOwnProperty":"x"}'),
  ])();

  const clone = (x: Json): Json => {
    if (x instanceof Uint8Array) return x.slice();
    if (Array.isArray(x)) return x.map(clone);
    if (x && typeof x === 'object') {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(x)) Object.defineProperty(out, k, { value: clone(v), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return x;
  };

  /** All [parent, key] slots in a value, so a mutation can land at any depth. */
  const slots = (x: Json, out: [Record<string, Json> | Json[], string | number][] = []): typeof out => {
    if (Array.isArray(x)) x.forEach((v, i) => { out.push([x, i]); slots(v, out); });
    else if (x && typeof x === 'object' && !(x instanceof Uint8Array)) {
      for (const [k, v] of Object.entries(x)) { out.push([x as Record<string, Json>, k]); slots(v, out); }
    }
    return out;
  };

  const set = (parent: Record<string, Json> | Json[], key: string | number, value: Json): void => {
    Object.defineProperty(parent, key, { value, enumerable: true, writable: true, configurable: true });
  };

  const mutateOnce = (msg: Record<string, Json>): void => {
    const all = slots(msg);
    const [parent, key] = all.length > 0 ? pick(all) : [msg, 'type'];
    const current = (parent as Record<string | number, Json>)[key];
    switch (int(9)) {
      case 0: if (Array.isArray(parent)) parent.splice(Number(key), 1); else delete (parent as Record<string, Json>)[key]; break;
      case 1: set(parent, key, typeof current === 'number' ? pick(NASTY_NUMBERS) : junk()); break;
      case 2: set(parent, key, typeof current === 'string' ? pick(NASTY_STRINGS) : pick(NASTY_NUMBERS)); break;
      case 3: set(parent, key, junk()); break;
      case 4: if (!Array.isArray(parent)) set(parent, pick(['__proto__', 'constructor', 'prototype', pick(NASTY_STRINGS)]), pollution()); break;
      case 5: set(msg, 'type', pick(NASTY_STRINGS)); break;
      case 6: if (Array.isArray(current)) { for (let i = 0; i < 1 + int(3); i++) current.push(junk()); } else set(parent, key, [current]); break;
      case 7: set(parent, key, typeof current === 'number' ? current * pick([-1, 1e6, 0.5, 1 + 1e-9]) : typeof current === 'string' ? `${current}\u202E${current}` : typeof current === 'boolean' ? String(current) : junk()); break;
      default: set(msg, 'requestId', pick([junk(), 'r'.repeat(1 + int(130)), `fz-dup`])); break;
    }
  };

  return {
    random,
    next(templates) {
      if (random() < 0.08) return junk();
      const msg = clone(pick(templates)) as Record<string, Json>;
      const n = 1 + int(random() < 0.7 ? 2 : 6);
      for (let i = 0; i < n; i++) mutateOnce(msg);
      return msg;
    },
  };
}

/** Fails when anything was written onto the shared prototypes (the pollution checks). */
export function prototypeSnapshot(): () => string[] {
  const protos: [string, object][] = [['Object', Object.prototype], ['Array', Array.prototype], ['Function', Function.prototype], ['String', String.prototype]];
  const before = protos.map(([, p]) => Object.getOwnPropertyNames(p).sort().join(','));
  return () => {
    const problems: string[] = [];
    protos.forEach(([name, p], i) => {
      if (Object.getOwnPropertyNames(p).sort().join(',') !== before[i]) problems.push(`${name}.prototype gained or lost properties`);
    });
    for (const key of ['polluted', 'isAdmin']) if ((({}) as Record<string, unknown>)[key] !== undefined) problems.push(`({}).${key} is set`);
    return problems;
  };
}
