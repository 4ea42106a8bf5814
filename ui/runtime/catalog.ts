/**
 * The model catalogue: the built-in manifests (models/*.json, listed in models/index.json), an optional extra
 * catalogue by URL (the harness's proof models), and models a user adds by URL or pasted JSON (`addCustomModelAsync`).
 *
 * index.json: `{ "version": 1, "models": [ "sd-turbo.json", { …an inline manifest… }, "https://…/other.json" ] }` —
 * string entries are URLs relative to the index. File URLs inside a manifest may be relative to the manifest's URL.
 */
import { AppError } from '../../protocol/errors';
import * as v from '../../protocol/validate';
import { parseManifest, type ModelManifest } from '../core/manifest';
import { fetchAllowedAsync, type NetworkPolicy } from './fetch-allowed';
import { createSha256 } from './sha256';
import sdTurbo from '../../models/sd-turbo.json';
import lcmDreamshaper from '../../models/lcm-dreamshaper-v7.json';
import sd15Inpainting from '../../models/sd15-inpainting.json';
import sd15ControlnetScribble from '../../models/sd15-controlnet-scribble.json';
import sd15ControlnetMlsd from '../../models/sd15-controlnet-mlsd.json';
import sdxs from '../../models/sdxs-512-dreamshaper.json';
import lcmSingle from '../../models/lcm-dreamshaper-v7-single.json';
import sd15Nmkd from '../../models/sd15-nmkd.json';

/** Built-in manifests by file name (must equal models/index.json `models`; a test checks). */
export const BUILTIN_MANIFEST_FILES: Readonly<Record<string, unknown>> = Object.freeze({
  'sd-turbo.json': sdTurbo,
  'sdxs-512-dreamshaper.json': sdxs,
  'lcm-dreamshaper-v7.json': lcmDreamshaper,
  'lcm-dreamshaper-v7-single.json': lcmSingle,
  'sd15-nmkd.json': sd15Nmkd,
  'sd15-inpainting.json': sd15Inpainting,
  'sd15-controlnet-scribble.json': sd15ControlnetScribble,
  'sd15-controlnet-mlsd.json': sd15ControlnetMlsd,
});

export interface CatalogEntry {
  readonly manifest: ModelManifest;
  /** Base for relative URLs inside the manifest (its own URL); absent for built-ins (absolute URLs only). */
  readonly baseUrl?: string;
  readonly origin: 'builtin' | 'dev' | 'custom';
}

export const catalogIndexValidator = v.object({
  version: v.optional(v.number({ integer: true, min: 1 })),
  models: v.array(v.plainData(), { maxLength: 500 }),
});

export function builtinCatalog(): CatalogEntry[] {
  return Object.values(BUILTIN_MANIFEST_FILES).map((json) => ({ manifest: parseManifest(json), origin: 'builtin' as const }));
}

/** Resolves a manifest URL (file, tokenizer) against the entry's base. */
export function resolveUrl(entry: CatalogEntry, url: string): string {
  try {
    return new URL(url, entry.baseUrl).href;
  } catch {
    throw new AppError('INVALID_MANIFEST', `${entry.manifest.name}: the URL "${url}" is relative but the manifest has no base URL.`);
  }
}

/** Store path of a downloaded file: content-addressed by sha256 when known, else by URL, so models share files. */
export function storePathFor(url: string, sha256?: string): string {
  if (sha256) return `blobs/sha256/${sha256}`;
  const h = createSha256();
  h.update(new TextEncoder().encode(url));
  const name = (url.split(/[?#]/)[0]!.split('/').pop() || 'file').replace(/[^\w.-]/g, '_').slice(0, 80);
  return `blobs/url/${h.digestHex().slice(0, 24)}/${name}`;
}

async function fetchJsonAsync(url: string, network: NetworkPolicy, what: string): Promise<unknown> {
  const res = await fetchAllowedAsync(url, { cache: 'no-store' }, network);
  if (!res.ok) throw new AppError('MODEL_FETCH_FAILED', `Could not load the ${what} at ${url}: HTTP ${res.status}.`);
  const text = await res.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new AppError('INVALID_MANIFEST', `The ${what} at ${url} is not JSON (it starts with ${JSON.stringify(text.slice(0, 20))}).`);
  }
}

/** Loads a catalogue index and every manifest it lists. A broken manifest fails the whole load, naming it. */
export async function loadCatalogIndexAsync(indexUrl: string, network: NetworkPolicy, origin: CatalogEntry['origin'] = 'dev'): Promise<CatalogEntry[]> {
  const raw = await fetchJsonAsync(indexUrl, network, 'model catalogue');
  let index: v.Infer<typeof catalogIndexValidator>;
  try {
    index = catalogIndexValidator.validate(raw);
  } catch (err) {
    throw new AppError('INVALID_MANIFEST', `The model catalogue at ${indexUrl} is invalid. ${err instanceof Error ? err.message : String(err)}`);
  }
  const out: CatalogEntry[] = [];
  for (const [i, item] of index.models.entries()) {
    const url = typeof item === 'string' ? new URL(item, indexUrl).href : indexUrl;
    const json = typeof item === 'string' ? await fetchJsonAsync(url, network, 'model manifest') : item;
    try {
      out.push({ manifest: parseManifest(json), baseUrl: url, origin });
    } catch (err) {
      const e = err instanceof AppError ? err : new AppError('INVALID_MANIFEST', String(err));
      throw new AppError('INVALID_MANIFEST', `Catalogue entry ${i} (${typeof item === 'string' ? item : 'inline'}): ${e.message}`);
    }
  }
  return out;
}

/**
 * A model the user adds: a manifest URL, pasted manifest JSON text, or an already-parsed object. Validated fully
 * (INVALID_MANIFEST with the path of the bad field); the URL is checked against the network allowlist.
 */
export async function addCustomModelAsync(input: string | object, network: NetworkPolicy): Promise<CatalogEntry> {
  if (typeof input === 'object') return { manifest: parseManifest(input), origin: 'custom' };
  const text = input.trim();
  if (text.startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (err) {
      throw new AppError('INVALID_MANIFEST', `The pasted manifest is not valid JSON: ${err instanceof Error ? err.message : String(err)}.`);
    }
    return { manifest: parseManifest(json), origin: 'custom' };
  }
  if (!/^https?:\/\//i.test(text)) {
    throw new AppError('INVALID_INPUT', `Expected a manifest URL (https://…) or manifest JSON, got ${JSON.stringify(text.slice(0, 40))}.`);
  }
  const json = await fetchJsonAsync(text, network, 'model manifest');
  return { manifest: parseManifest(json), baseUrl: text, origin: 'custom' };
}
