import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../protocol/errors';
import { parseManifest } from '../../ui/core/manifest';
import { addCustomModelAsync, BUILTIN_MANIFEST_FILES, builtinCatalog, loadCatalogIndexAsync, storePathFor } from '../../ui/runtime/catalog';
import crypto from 'node:crypto';
import { ASSETS, ROOT } from '../helpers/paths';
import { CLIP_ASSET_FILES } from '../helpers/clip-tokenizer-files';
import { startFaultServerAsync, type FaultServer } from './fault-server';

const MODELS = path.join(ROOT, 'models');
const readJson = (f: string): unknown => JSON.parse(fs.readFileSync(path.join(MODELS, f), 'utf8'));

function parseError(json: unknown): AppError {
  try {
    parseManifest(json);
  } catch (err) {
    return err as AppError;
  }
  throw new Error('expected the manifest to be rejected');
}

describe('models/ catalogue', () => {
  const files = fs.readdirSync(MODELS).filter((f) => f.endsWith('.json') && f !== 'index.json');

  it('every models/*.json parses, and index.json lists exactly them (and the runtime bundles exactly them)', () => {
    for (const f of files) expect(() => parseManifest(readJson(f)), f).not.toThrow();
    const index = readJson('index.json') as { models: string[] };
    expect([...index.models].sort()).toEqual([...files].sort());
    expect(Object.keys(BUILTIN_MANIFEST_FILES).sort()).toEqual([...files].sort());
    for (const f of files) expect(BUILTIN_MANIFEST_FILES[f]).toEqual(readJson(f));
  });

  it('covers the required model kinds with their key facts', () => {
    const byId = new Map(builtinCatalog().map((e) => [e.manifest.id, e.manifest]));
    const turbo = byId.get('sd-turbo')!;
    expect(turbo.raw.source).toBe('schmuell/sd-turbo-ort-web');
    expect(turbo.dtype).toBe('float16');
    expect(turbo.padTokenId).toBe(0);
    expect(turbo.scheduler).toMatchObject({ _class_name: 'EulerDiscreteScheduler', timestep_spacing: 'trailing' });
    expect(turbo.raw.defaults.steps).toBe(1);
    expect(turbo.raw.licence.commercial_use).toBe(false);
    expect(turbo.timestepDtype).toBe('int64');
    const lcm = byId.get('lcm-dreamshaper-v7')!;
    expect(lcm.scheduler._class_name).toBe('LCMScheduler');
    expect(lcm.components.unet!.inputs.some((i) => i.name === 'timestep_cond')).toBe(true);
    expect(lcm.components.unet!.files.find((f) => f.external_data_for)?.external_data_for).toBe('model.onnx_data');
    expect(byId.get('sd15-inpainting')!.raw.capabilities.inpaint).toBe('9ch');
    expect(byId.get('sd15-controlnet-scribble')!.raw.capabilities.controlnet).toBe('scribble');
    expect(byId.get('sd15-controlnet-mlsd')!.raw.capabilities.controlnet).toBe('mlsd');
    expect(byId.get('sd15-controlnet-mlsd')!.components.controlnet!.outputs).toHaveLength(13);
    expect([...byId.values()].some((m) => m.components.preview_decoder)).toBe(true);
    // SD 1.5 family pads with <|endoftext|>.
    for (const id of ['lcm-dreamshaper-v7', 'sd15-inpainting', 'sd15-controlnet-scribble']) expect(byId.get(id)!.padTokenId).toBe(49407);
  });

  it('the two ControlNet entries share their base SD 1.5 files in the store', () => {
    const [a, b] = ['sd15-controlnet-scribble', 'sd15-controlnet-mlsd'].map((id) => builtinCatalog().find((e) => e.manifest.id === id)!.manifest);
    expect(storePathFor(a!.components.unet!.files[0]!.url)).toBe(storePathFor(b!.components.unet!.files[0]!.url));
    expect(storePathFor(a!.components.controlnet!.files[0]!.url)).not.toBe(storePathFor(b!.components.controlnet!.files[0]!.url));
  });

  it('tokenizer files are verified file entries (exact bytes, sha256), shared by every built-in model', () => {
    const stores = new Set<string>();
    for (const e of builtinCatalog()) {
      const tok = e.manifest.raw.tokenizer;
      for (const f of [tok.vocab, tok.merges]) {
        expect(f.url, e.manifest.id).toMatch(/\/resolve\/[0-9a-f]{40}\//);
        expect(f.sha256, e.manifest.id).toMatch(/^[0-9a-f]{64}$/);
        stores.add(storePathFor(f.url, f.sha256));
      }
    }
    expect(stores.size).toBe(2); // one vocab.json + one merges.txt in the store for all models
    // The bare URLs of the old schema are refused with the path of the field.
    const old = structuredClone(readJson('sd-turbo.json')) as any;
    old.tokenizer = { vocab_url: 'https://x/vocab.json', merges_url: 'https://x/merges.txt', pad_token_id: 0, max_length: 77 };
    expect(parseError(old).message).toMatch(/At tokenizer\.vocab/);
    const noBytes = structuredClone(readJson('sd-turbo.json')) as any;
    delete noBytes.tokenizer.merges.bytes;
    expect(parseError(noBytes).message).toMatch(/At tokenizer\.merges\.bytes/);
  });

  it('the test tokenizer entries match the asset files they describe', () => {
    for (const f of Object.values(CLIP_ASSET_FILES)) {
      const bytes = fs.readFileSync(path.join(ASSETS, 'clip/hf', f.name));
      expect(bytes.length, f.name).toBe(f.bytes);
      expect(crypto.createHash('sha256').update(bytes).digest('hex'), f.name).toBe(f.sha256);
    }
  });

  it('a broken manifest reports the path of the bad field', () => {
    const bad = structuredClone(readJson('sd-turbo.json')) as any;
    bad.components.unet.files[0].sha256 = 'abc';
    const err = parseError(bad);
    expect(err.code).toBe('INVALID_MANIFEST');
    expect(err.message).toContain('At components.unet.files.0.sha256: expected 64 lowercase hex characters, got "abc"');
    const bad2 = structuredClone(readJson('sd-turbo.json')) as any;
    bad2.components.text_encoder.inputs[0].dtype = 'uint8';
    expect(parseError(bad2).message).toContain('At components.text_encoder.inputs.0.dtype');
  });
});

describe('catalogue loading and custom models', () => {
  let server: FaultServer;
  beforeAll(async () => { server = await startFaultServerAsync(); });
  afterAll(async () => { await server.closeAsync(); });
  const network = () => ({ domains: [server.url] });
  const enc = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));

  it('loads an index with relative and inline entries, and resolves relative file URLs against the manifest', async () => {
    const m = structuredClone(readJson('sd-turbo.json')) as any;
    m.id = 'rel-model';
    m.components.unet.files[0].url = './rel/unet.onnx';
    server.set('/cat/index.json', enc({ version: 1, models: ['rel-model.json', { ...structuredClone(readJson('sd15-inpainting.json')) as object, id: 'inline-model' }] }), { contentType: 'application/json' });
    server.set('/cat/rel-model.json', enc(m), { contentType: 'application/json' });
    const entries = await loadCatalogIndexAsync(`${server.url}/cat/index.json`, network());
    expect(entries.map((e) => e.manifest.id)).toEqual(['rel-model', 'inline-model']);
    expect(new URL(entries[0]!.manifest.components.unet!.files[0]!.url, entries[0]!.baseUrl).href).toBe(`${server.url}/cat/rel/unet.onnx`);
  });

  it('a broken catalogue entry names the entry and the field', async () => {
    const m = structuredClone(readJson('sd-turbo.json')) as any;
    m.components.unet.files[0].bytes = -1;
    server.set('/cat2/index.json', enc({ models: ['bad.json'] }), { contentType: 'application/json' });
    server.set('/cat2/bad.json', enc(m), { contentType: 'application/json' });
    const err = await loadCatalogIndexAsync(`${server.url}/cat2/index.json`, network()).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('INVALID_MANIFEST');
    expect(err?.message).toMatch(/Catalogue entry 0 \(bad\.json\).*At components\.unet\.files\.0\.bytes/);
  });

  it('addCustomModelAsync takes a URL, JSON text or an object; bad input and bad hosts get clear errors', async () => {
    const m = { ...(structuredClone(readJson('sd-turbo.json')) as object), id: 'my-model' };
    server.set('/custom/my.json', enc(m), { contentType: 'application/json' });
    expect((await addCustomModelAsync(`${server.url}/custom/my.json`, network())).manifest.id).toBe('my-model');
    expect((await addCustomModelAsync(JSON.stringify(m), network())).manifest.id).toBe('my-model');
    expect((await addCustomModelAsync(m, network())).origin).toBe('custom');
    await expect(addCustomModelAsync('{ not json', network())).rejects.toMatchObject({ code: 'INVALID_MANIFEST' });
    await expect(addCustomModelAsync('ftp://x', network())).rejects.toMatchObject({ code: 'INVALID_INPUT' });
    await expect(addCustomModelAsync('https://example.com/m.json', network())).rejects.toMatchObject({ code: 'NETWORK_NOT_ALLOWED' });
    server.set('/custom/page.json', new TextEncoder().encode('<html>login</html>'), { contentType: 'application/json' });
    await expect(addCustomModelAsync(`${server.url}/custom/page.json`, network())).rejects.toMatchObject({ code: 'INVALID_MANIFEST', message: expect.stringMatching(/not JSON/) });
  });
});
