/**
 * figma.clientStorage for the fake: async get / set / delete / keys over a Map the host can keep between plugin
 * runs. Values are deep-copied on the way in and out (as Figma serialises them); only the documented value types
 * are accepted (objects, arrays, strings, numbers, booleans, null, undefined, Uint8Array). The 5 MB quota per
 * plugin is enforced: a setAsync that would exceed it rejects and stores nothing. Usage counts each key's length
 * plus the JSON size of its value, with Uint8Array counted at its byte length.
 */

/** Figma's clientStorage quota per plugin: 5 MB (Update 109). Counted as 5,000,000 bytes (the stricter reading). */
export const CLIENT_STORAGE_QUOTA_BYTES = 5_000_000;

export type ClientStorageData = Map<string, unknown>;

/** Approximate serialised size of a stored value, in bytes. */
export function storedSize(v: unknown): number {
  if (v instanceof Uint8Array) return v.byteLength;
  if (v === undefined) return 0;
  if (v === null) return 4;
  switch (typeof v) {
    case 'string': return new TextEncoder().encode(v).length + 2;
    case 'number': return String(v).length;
    case 'boolean': return v ? 4 : 5;
    default: break;
  }
  if (Array.isArray(v)) return 2 + v.reduce<number>((n, x) => n + storedSize(x) + 1, 0);
  return 2 + Object.entries(v as Record<string, unknown>).reduce((n, [k, x]) => n + k.length + 3 + storedSize(x) + 1, 0);
}

function copyValue(v: unknown, path: string): unknown {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return v;
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map((x, i) => copyValue(x, `${path}[${i}]`));
  if (typeof v === 'object') {
    const proto = Object.getPrototypeOf(v);
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || (proto !== Object.prototype && proto !== null)) {
      throw new Error(`in setAsync: Cannot store ${Object.prototype.toString.call(v)} at ${path} (allowed: objects, arrays, strings, numbers, booleans, null, undefined, Uint8Array)`);
    }
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = copyValue(x, `${path}.${k}`);
    return out;
  }
  throw new Error(`in setAsync: Cannot store a ${typeof v} at ${path}`);
}

export function usedBytes(data: ClientStorageData): number {
  let n = 0;
  for (const [k, v] of data) n += k.length + storedSize(v);
  return n;
}

export function createClientStorage(data: ClientStorageData): ClientStorageAPI {
  const checkKey = (fn: string, key: unknown): string => {
    if (typeof key !== 'string') throw new Error(`in ${fn}: Expected key to be a string, got ${typeof key}`);
    return key;
  };
  return {
    async getAsync(key: string) {
      const v = data.get(checkKey('getAsync', key));
      return v === undefined ? undefined : copyValue(v, key);
    },
    async setAsync(key: string, value: unknown) {
      checkKey('setAsync', key);
      const copy = copyValue(value, key);
      const before = usedBytes(data) - (data.has(key) ? key.length + storedSize(data.get(key)) : 0);
      const after = before + key.length + storedSize(copy);
      if (after > CLIENT_STORAGE_QUOTA_BYTES) {
        throw new Error(`in setAsync: Storage quota exceeded: storing "${key}" would use ${after} bytes of the ${CLIENT_STORAGE_QUOTA_BYTES}-byte (5 MB) client storage quota`);
      }
      data.set(key, copy);
    },
    async deleteAsync(key: string) {
      data.delete(checkKey('deleteAsync', key));
    },
    async keysAsync() {
      return [...data.keys()];
    },
  };
}
