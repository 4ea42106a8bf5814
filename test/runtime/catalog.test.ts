import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { AppError } from '../../protocol/errors';
import { parseManifest, type ComponentSpec } from '../../ui/core/manifest';
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

  it('every built-in names its evidence; URLs are pinned to a commit, or the evidence says why not and every file is then pinned by sha256 or at first download', () => {
    for (const e of builtinCatalog()) {
      const m = e.manifest;
      const ev = m.raw.evidence;
      expect(ev, m.id).toBeDefined();
      expect(ev!.sources.length, m.id).toBeGreaterThan(0);
      for (const [role, c] of Object.entries(m.components)) {
        for (const f of c!.files) {
          const where = `${m.id} ${role} ${f.path}`;
          expect(f.url, where).toMatch(/^https:\/\/huggingface\.co\/[\w.-]+\/[\w.-]+\/resolve\/([0-9a-f]{40}|main)\//);
          const repo = f.url.split('/').slice(3, 5).join('/');
          if (f.url.includes('/resolve/main/')) expect(ev!.revision, where).toMatch(new RegExp(`${repo}@main: `));
          else expect(ev!.revision, where).toContain(`${repo}@${f.url.split('/')[6]}`);
          // Exact bytes, or (no public size) a rounded display size and the fact listed as unverified.
          if (f.bytes === undefined) {
            expect(f.approx_bytes, where).toBeGreaterThan(0);
            expect((ev!.unverified ?? []).join(' ') + (c!.optional ? ' optional' : ''), where).toMatch(/size|optional/);
          }
        }
      }
    }
  });

  it('the catalogue carries the facts the real files have (issue 10 table)', () => {
    const byId = new Map(builtinCatalog().map((e) => [e.manifest.id, e.manifest]));
    const input = (id: string, role: string, name: string) => (byId.get(id)!.components as Record<string, ComponentSpec>)[role]!.inputs.find((i) => i.name === name)!;
    // LCM (aislamov): timestep float32 [1].
    expect(input('lcm-dreamshaper-v7', 'unet', 'timestep')).toMatchObject({ dtype: 'float32', dims: [1] });
    // RanaLLC: every float I/O float16 incl. timestep; 9-channel sample; published sizes and sha256.
    const rana = byId.get('sd15-inpainting')!;
    for (const c of Object.values(rana.components)) {
      for (const x of [...c!.inputs, ...c!.outputs]) if (x.name !== 'input_ids') expect(x.dtype, x.name).toBe('float16');
      for (const f of c!.files) expect(f.sha256, f.path).toMatch(/^[0-9a-f]{64}$/);
    }
    expect(input('sd15-inpainting', 'unet', 'sample').dims[1]).toBe(9);
    expect(rana.components.unet!.files[0]).toMatchObject({ bytes: 1_720_173_976, sha256: 'a3726e1944ec2fbc9596096cd001520aea789367f329360ee34eb520c751de16' });
    // Axodox ControlNet: float16 sample, float64 conditioning_scale of shape [1]; each residual its own dims.
    for (const id of ['sd15-controlnet-scribble', 'sd15-controlnet-mlsd']) {
      expect(input(id, 'controlnet', 'sample').dtype).toBe('float16');
      expect(input(id, 'unet', 'sample').dtype).toBe('float16');
      expect(input(id, 'controlnet', 'conditioning_scale')).toMatchObject({ dtype: 'float64', dims: [1] });
      const res = byId.get(id)!.components.controlnet!.outputs;
      const symbolic = res.flatMap((r) => r.dims.filter((d) => typeof d === 'string' && d !== 'batch'));
      expect(new Set(symbolic).size).toBe(symbolic.length);
    }
    // SD-Turbo: exact sizes at the pinned revision; the unlisted VAE encoder is optional (a 404 only disables Edit/Inpaint).
    const turbo = byId.get('sd-turbo')!;
    expect(turbo.components.unet!.files[0]).toMatchObject({ bytes: 1_733_430_199, url: expect.stringContaining('/resolve/ace89b7d2cd849f9a73914cdbb8a3ea60c853dd1/') });
    expect(turbo.components.text_encoder!.files[0]!.bytes).toBe(681_393_168);
    expect(turbo.components.vae_decoder!.files[0]!.bytes).toBe(99_094_314);
    expect(turbo.components.vae_encoder!.optional).toBe(true);
    // TAESD: 4,912,312 bytes at c8a437fd, latent scale 1, never part of an install.
    for (const m of byId.values()) {
      const p = m.components.preview_decoder;
      if (!p) continue;
      expect(p.optional, m.id).toBe(true);
      expect(p.files[0]).toMatchObject({ bytes: 4_912_312, url: expect.stringContaining('julienkay/taesd/resolve/c8a437fd0201c21c3bcd298fcf3181b063bcc1eb/') });
    }
    // New entries with pinned evidence.
    expect(byId.get('sdxs-512-dreamshaper')!.raw).toMatchObject({ vae_scaling_factor: 1 });
    expect(input('sdxs-512-dreamshaper', 'text_encoder', 'input_ids').dtype).toBe('int64');
    expect(byId.get('sd15-nmkd')!.components.unet!.files.map((f) => f.external_data_for ?? null)).toEqual([null, 'weights.pb']);
    expect(byId.get('lcm-dreamshaper-v7-single')!.components.unet!.files).toHaveLength(1);
  });

  it('models/README.md has one row per model × file with the manifest\'s revision, bytes and hash', () => {
    const readme = fs.readFileSync(path.join(MODELS, 'README.md'), 'utf8');
    const rows = readme.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| model') && !l.startsWith('|---'));
    let n = 0;
    for (const e of builtinCatalog()) {
      const m = e.manifest;
      const files = [...Object.values(m.components).flatMap((c) => c!.files), m.raw.tokenizer.vocab, m.raw.tokenizer.merges];
      for (const f of files) {
        const [, , , repo1, repo2, , rev, ...rest] = f.url.split('/');
        const row = rows.find((r) => r.startsWith(`| ${m.id} | \`${repo1}/${repo2}\` ${rest.join('/')}`));
        expect(row, `${m.id} ${f.url}`).toBeDefined();
        expect(row).toContain(`| ${rev === 'main' ? 'main' : rev!.slice(0, 8)} |`);
        expect(row).toContain(f.bytes !== undefined ? `| ${f.bytes.toLocaleString('en-US')} |` : `| ≈${(f as { approx_bytes?: number }).approx_bytes!.toLocaleString('en-US')} |`);
        expect(row).toContain(f.sha256 ? `sha256 \`${f.sha256}\`` : 'host hash / first download');
        n++;
      }
    }
    expect(rows.length).toBe(n);
  });

  it('a manifest may omit a component\'s I/O lists: it gets the diffusers export\'s names for the role', () => {
    const raw = structuredClone(readJson('sd-turbo.json')) as any;
    for (const c of Object.values(raw.components) as any[]) { delete c.inputs; delete c.outputs; }
    const m = parseManifest(raw);
    expect(m.components.unet!.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(m.components.unet!.inputs[0]!.dims[1]).toBe(4);
    expect(m.components.vae_decoder!.outputs[0]!.name).toBe('sample');
    expect(m.components.text_encoder!.inputs[0]).toMatchObject({ name: 'input_ids', dtype: 'int32' });
    expect(m.timestepDtype).toBe('float32');
    // An export's own names in a manifest become the slot names the pipelines use (the runtime binds them back).
    const named = structuredClone(readJson('sd-turbo.json')) as any;
    named.components.unet.inputs[0].name = 'latents';
    named.components.unet.inputs[1].name = 't';
    named.components.unet.outputs[0].name = 'noise_pred';
    named.components.vae_decoder.inputs[0].name = 'latent';
    const n = parseManifest(named);
    expect(n.components.unet!.inputs.map((i) => i.name)).toEqual(['sample', 'timestep', 'encoder_hidden_states']);
    expect(n.components.unet!.outputs[0]!.name).toBe('out_sample');
    expect(n.components.vae_decoder!.inputs[0]!.name).toBe('latent_sample');
    expect(n.raw.components.unet.inputs![0]!.name).toBe('latents'); // the raw manifest is kept as written
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
