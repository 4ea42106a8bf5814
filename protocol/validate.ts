/**
 * A tiny validator library: each validator both checks `unknown` data and yields its static type.
 * Errors carry a path, e.g. `At files.2.sha256: expected 64 hex characters, got "abc"`.
 * Pure: no platform code, usable from plugin/ (ES2020, no DOM) and ui/.
 */

export class ValidationError extends Error {
  readonly path: readonly (string | number)[];
  readonly detail: string;
  constructor(path: readonly (string | number)[], detail: string) {
    super(path.length > 0 ? `At ${path.join('.')}: ${detail}` : detail);
    this.name = 'ValidationError';
    this.path = path;
    this.detail = detail;
  }
}

export interface Validator<T> {
  /** Returns the value typed as T or throws ValidationError with a path. */
  readonly validate: (value: unknown, path?: readonly (string | number)[]) => T;
  /** Human description used in error messages ("a string", "one of …"). */
  readonly expected: string;
  /** True for validators made with `optional` (missing object keys allowed). */
  readonly isOptional?: boolean;
}

export type Infer<V> = V extends Validator<infer T> ? T : never;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.length} bytes`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  // "an object" for plain and null-prototype objects; "a Date", "a Float32Array", "an Error" for class instances.
  const proto = Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null;
  const name = proto === null || proto === Object.prototype ? '' : typeof proto.constructor?.name === 'string' ? proto.constructor.name : '';
  if (!name || name === 'Object') return 'an object';
  return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
}

function make<T>(expected: string, check: (value: unknown, path: readonly (string | number)[]) => T): Validator<T> {
  return { expected, validate: (value, path = []) => check(value, path) };
}

function fail(path: readonly (string | number)[], expected: string, value: unknown): never {
  throw new ValidationError(path, `expected ${expected}, got ${describe(value)}`);
}

export const string = (opts: { minLength?: number; maxLength?: number; pattern?: RegExp; patternName?: string } = {}): Validator<string> => {
  const expected = opts.patternName ?? (opts.minLength ? 'a non-empty string' : 'a string');
  return make(expected, (v, p) => {
    if (typeof v !== 'string') return fail(p, expected, v);
    if (opts.minLength !== undefined && v.length < opts.minLength) return fail(p, expected, v);
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      throw new ValidationError(p, `expected at most ${opts.maxLength} characters, got ${v.length}`);
    }
    if (opts.pattern && !opts.pattern.test(v)) return fail(p, expected, v);
    return v;
  });
};

export const number = (opts: { min?: number; max?: number; integer?: boolean } = {}): Validator<number> => {
  const range =
    opts.min !== undefined && opts.max !== undefined ? ` in [${opts.min}, ${opts.max}]`
    : opts.min !== undefined ? ` ≥ ${opts.min}`
    : opts.max !== undefined ? ` ≤ ${opts.max}` : '';
  const expected = `${opts.integer ? 'an integer' : 'a finite number'}${range}`;
  return make(expected, (v, p) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) return fail(p, expected, v);
    if (opts.integer && !Number.isInteger(v)) return fail(p, expected, v);
    if (opts.min !== undefined && v < opts.min) return fail(p, expected, v);
    if (opts.max !== undefined && v > opts.max) return fail(p, expected, v);
    return v;
  });
};

export const boolean = (): Validator<boolean> =>
  make('a boolean', (v, p) => (typeof v === 'boolean' ? v : fail(p, 'a boolean', v)));

export const literal = <const L extends string | number | boolean | null>(lit: L): Validator<L> =>
  make(JSON.stringify(lit), (v, p) => (v === lit ? (v as L) : fail(p, JSON.stringify(lit), v)));

export const oneOf = <const L extends readonly (string | number)[]>(values: L): Validator<L[number]> => {
  const expected = `one of ${values.map((x) => JSON.stringify(x)).join(', ')}`;
  return make(expected, (v, p) => ((values as readonly unknown[]).includes(v) ? (v as L[number]) : fail(p, expected, v)));
};

export const uint8Array = (opts: { maxBytes?: number; minBytes?: number } = {}): Validator<Uint8Array> =>
  make('a Uint8Array', (v, p) => {
    if (!(v instanceof Uint8Array)) return fail(p, 'a Uint8Array', v);
    if (opts.minBytes !== undefined && v.length < opts.minBytes) {
      throw new ValidationError(p, `expected at least ${opts.minBytes} bytes, got ${v.length}`);
    }
    if (opts.maxBytes !== undefined && v.length > opts.maxBytes) {
      throw new ValidationError(p, `expected at most ${opts.maxBytes} bytes, got ${v.length}`);
    }
    return v;
  });

export const optional = <T>(inner: Validator<T>): Validator<T | undefined> => ({
  expected: `${inner.expected} or nothing`,
  isOptional: true,
  validate: (v, p = []) => (v === undefined ? undefined : inner.validate(v, p)),
});

export const nullable = <T>(inner: Validator<T>): Validator<T | null> =>
  make(`${inner.expected} or null`, (v, p) => (v === null ? null : inner.validate(v, p)));

export const array = <T>(item: Validator<T>, opts: { maxLength?: number; minLength?: number } = {}): Validator<T[]> =>
  make(`an array of ${item.expected}`, (v, p) => {
    if (!Array.isArray(v)) return fail(p, `an array`, v);
    if (opts.minLength !== undefined && v.length < opts.minLength) {
      throw new ValidationError(p, `expected at least ${opts.minLength} items, got ${v.length}`);
    }
    if (opts.maxLength !== undefined && v.length > opts.maxLength) {
      throw new ValidationError(p, `expected at most ${opts.maxLength} items, got ${v.length}`);
    }
    return v.map((x, i) => item.validate(x, [...p, i]));
  });

export const record = <T>(value: Validator<T>): Validator<Record<string, T>> =>
  make(`an object of ${value.expected}`, (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(p, 'an object', v);
    const out: Record<string, T> = {};
    for (const [k, x] of Object.entries(v)) {
      // An own "__proto__" key (JSON.parse makes them) would set the copy's prototype on assignment.
      if (k === '__proto__') throw new ValidationError([...p, k], 'a key named "__proto__" is not allowed');
      out[k] = value.validate(x, [...p, k]);
    }
    return out;
  });

type Shape = Record<string, Validator<unknown>>;
type OptionalKeys<S extends Shape> = { [K in keyof S]: S[K] extends { isOptional: true } ? K : undefined extends Infer<S[K]> ? K : never }[keyof S];
type ObjectOf<S extends Shape> = { -readonly [K in Exclude<keyof S, OptionalKeys<S>>]: Infer<S[K]> } & {
  -readonly [K in OptionalKeys<S>]?: Infer<S[K]>;
};
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * A plain object with known keys. Unknown keys are dropped (so forwarding a validated value never leaks extras);
 * pass `strict: true` to reject them instead.
 */
export const object = <S extends Shape>(shape: S, opts: { strict?: boolean } = {}): Validator<Simplify<ObjectOf<S>>> =>
  make('an object', (v, p) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array) return fail(p, 'an object', v);
    const src = v as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(shape)) {
      const val = shape[key]!.validate(src[key], [...p, key]);
      if (val !== undefined) out[key] = val;
    }
    if (opts.strict) {
      for (const key of Object.keys(src)) {
        if (!(key in shape)) throw new ValidationError([...p, key], 'unexpected key');
      }
    }
    return out as Simplify<ObjectOf<S>>;
  });

/** A discriminated union on `key` (default `type`): picks the branch from the tag, so errors point into it. */
export const taggedUnion = <K extends string, M extends Record<string, Validator<unknown>>>(
  key: K,
  branches: M,
): Validator<Infer<M[keyof M]>> => {
  const tags = Object.keys(branches);
  const expected = `${key} one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`;
  return make(expected, (v, p) => {
    if (typeof v !== 'object' || v === null) return fail(p, 'an object', v);
    const tag = (v as Record<string, unknown>)[key];
    if (typeof tag !== 'string' || !Object.prototype.hasOwnProperty.call(branches, tag)) {
      return fail([...p, key], `one of ${tags.map((t) => JSON.stringify(t)).join(', ')}`, tag);
    }
    return branches[tag]!.validate(v, p) as Infer<M[keyof M]>;
  });
};

/** Checks with a custom predicate after an inner validator. */
export const refine = <T>(inner: Validator<T>, check: (value: T) => string | null): Validator<T> =>
  make(inner.expected, (v, p) => {
    const val = inner.validate(v, p);
    const problem = check(val);
    if (problem) throw new ValidationError(p, problem);
    return val;
  });

/** Lazily-resolved validator for recursive shapes. */
export const lazy = <T>(get: () => Validator<T>): Validator<T> =>
  make('a value', (v, p) => get().validate(v, p));

/** Any JSON-like plain value (no functions, no class instances except Uint8Array). */
export const plainData = (): Validator<unknown> =>
  make('plain data', (v, p) => {
    const walk = (x: unknown, q: readonly (string | number)[], depth: number): void => {
      if (depth > 32) throw new ValidationError(q, 'nested too deeply');
      if (x === null || x === undefined || typeof x === 'string' || typeof x === 'boolean') return;
      if (typeof x === 'number') { if (!Number.isFinite(x)) fail(q, 'a finite number', x); return; }
      if (x instanceof Uint8Array) return;
      if (Array.isArray(x)) { x.forEach((y, i) => walk(y, [...q, i], depth + 1)); return; }
      if (typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype) {
        for (const [k, y] of Object.entries(x)) walk(y, [...q, k], depth + 1);
        return;
      }
      fail(q, 'plain data', x);
    };
    walk(v, p, 0);
    return v;
  });
