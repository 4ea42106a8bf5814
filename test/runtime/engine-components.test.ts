/**
 * Download what a task needs (issue 10 item 4) and keep what is verified (Must show): an optional VAE encoder is not
 * part of the install and is fetched on the first Edit; one that 404s turns Edit/Inpaint off with a clear message while
 * Generate keeps working; a moved revision re-downloads only the files whose sha256 changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import crypto from 'node:crypto';
import { NO_GPU, nodeOrt as ort } from '../helpers/node-engine';
import { AppError } from '../../protocol/errors';
import { createImage, decodePng } from '../../ui/core/image';
import { rewriteOnnx } from '../models/onnx-rewrite';
import { maxPixelDiff } from '../models/convention-run';
import type { GenerateRequest } from '../../ui/contracts/engine';
import { createEngineAsync } from '../../ui/runtime/engine';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import type { ModelStore } from '../../ui/runtime/store/model-store';
import { addCustomModelAsync } from '../../ui/runtime/catalog';
import { createColourProofModel } from '../models/proof-fixture';
import { clipTokenizerEntries } from '../helpers/clip-tokenizer-files';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog } from './proof-catalog-server';

const sha = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

let server: FaultServer;
beforeAll(async () => {
  server = await startFaultServerAsync();
  serveProofCatalog(server, [], '/tok-only'); // serves /tok-only/tokenizer/{vocab.json,merges.txt}
});
afterAll(async () => { await server.closeAsync(); });

/** A proof model served under `prefix`, its VAE encoder optional; `missingEncoder` leaves that URL a 404. */
function serveModel(id: string, prefix: string, opts: { missingEncoder?: boolean; hiddenSize?: number } = {}): Record<string, any> {
  const pm = createColourProofModel({ id, inpaint: 'blend', maxSide: 256, ...(opts.hiddenSize ? { hiddenSize: opts.hiddenSize } : {}) });
  const raw = structuredClone(pm.manifest.raw) as unknown as Record<string, any>;
  Object.assign(raw.tokenizer, clipTokenizerEntries(`${server.url}/tok-only/tokenizer`));
  for (const [role, bytes] of Object.entries(pm.models)) {
    const path = `${prefix}/${role}/model.onnx`;
    if (!(role === 'vae_encoder' && opts.missingEncoder)) server.set(path, bytes!);
    raw.components[role].files = [{ path: `${role}/model.onnx`, url: `${server.url}${path}`, bytes: bytes!.length, sha256: sha(bytes!) }];
  }
  raw.components.vae_encoder.optional = true;
  return raw;
}

const request = (o: Partial<GenerateRequest>): GenerateRequest => ({
  modelId: 'x', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 42, ...o,
});

const engineFor = async (raws: Record<string, any>[], store: ModelStore = createMemoryStore()) => createEngineAsync({
  ort, store, network: { domains: [server.url] }, adapter: NO_GPU,
  catalog: await Promise.all(raws.map((r) => addCustomModelAsync(r, { domains: [server.url] }))),
  downloadTuning: { sleep: async () => {}, progressIntervalMs: 0 },
});
const fetched = (prefix: string) => server.log.filter((l) => l.path.startsWith(prefix) && l.status < 300).map((l) => l.path.slice(prefix.length));

describe('components per capability', () => {
  it('the install leaves the optional VAE encoder out; the first Edit fetches it, then Edit works', async () => {
    const engine = await engineFor([serveModel('lazy', '/lazy')]);
    await engine.downloadModelAsync('lazy', () => {});
    expect(fetched('/lazy').sort()).toEqual(['/text_encoder/model.onnx', '/unet/model.onnx', '/vae_decoder/model.onnx']);
    expect((await engine.listModelsAsync())[0]!.status).toBe('ready');
    await engine.generateAsync(request({ modelId: 'lazy' }), {});
    const image = createImage(64, 64, [30, 60, 220, 255]);
    const edit = await engine.generateAsync(request({ modelId: 'lazy', mode: 'edit', image, strength: 0.5 }), {});
    expect(edit.width).toBe(64);
    expect(fetched('/lazy')).toContain('/vae_encoder/model.onnx');
    await engine.closeAsync();
  });

  it('a VAE encoder that 404s turns Edit and Inpaint off with a clear message; the install and Generate still work', async () => {
    const engine = await engineFor([serveModel('no-enc', '/no-enc', { missingEncoder: true })]);
    await engine.downloadModelAsync('no-enc', () => {});
    await engine.generateAsync(request({ modelId: 'no-enc' }), {});
    const image = createImage(64, 64, [30, 60, 220, 255]);
    const err = await engine.generateAsync(request({ modelId: 'no-enc', mode: 'edit', image, strength: 0.5 }), {}).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('MODEL_FETCH_FAILED');
    expect(err?.message).toMatch(/cannot do Edit and Inpaint: its vae encoder could not be downloaded \(.*HTTP 404/);
    expect(err?.hint).toMatch(/turned off for this model; everything else still works/);
    const entry = (await engine.listModelsAsync())[0]!;
    expect(entry.status).toBe('ready');
    expect(entry.capabilities).toMatchObject({ txt2img: true, img2img: false, inpaint: 'none' });
    // Asked again: the same answer, without another request to the host.
    const before = server.log.length;
    await expect(engine.generateAsync(request({ modelId: 'no-enc', mode: 'inpaint', image, mask: image }), {})).rejects.toMatchObject({ message: expect.stringMatching(/HTTP 404/) });
    expect(server.log.length).toBe(before);
    await engine.generateAsync(request({ modelId: 'no-enc' }), {});
    await engine.closeAsync();
  });
});

describe('TAESD live previews', () => {
  it('a preview decoder (index-only I/O, latent scale 1) is fetched on the first multi-step run and renders full-size previews of the x0 prediction', async () => {
    const raw = serveModel('previews', '/prev');
    // A TAESD-like decoder: the proof VAE decoder at latent scale 1, saved with index-only names.
    const taesd = rewriteOnnx(createColourProofModel({ vaeScalingFactor: 1 }).models.vae_decoder!, { rename: { latent_sample: 'input.1', sample: '/decoder/Clip_output_0' } }).model;
    server.set('/prev/taesd/vae_decoder/model.onnx', taesd);
    raw.components.preview_decoder = {
      files: [{ path: 'taesd/vae_decoder/model.onnx', url: `${server.url}/prev/taesd/vae_decoder/model.onnx`, bytes: taesd.length, sha256: sha(taesd) }],
      model: 'taesd/vae_decoder/model.onnx', optional: true,
    };
    const engine = await engineFor([raw]);
    await engine.downloadModelAsync('previews', () => {});
    expect(fetched('/prev')).not.toContain('/taesd/vae_decoder/model.onnx'); // not part of the install
    const previews: { width: number; data: Uint8ClampedArray }[] = [];
    const one = await engine.generateAsync(request({ modelId: 'previews', steps: 1 }), { onProgress: (p) => { if (p.preview) previews.push(p.preview); } });
    expect(fetched('/prev')).not.toContain('/taesd/vae_decoder/model.onnx'); // a 1-step run has nothing to preview
    expect(previews.every((p) => p.width === 8)).toBe(true); // the latent-RGB preview (64 px / 8)
    previews.length = 0;
    const res = await engine.generateAsync(request({ modelId: 'previews', steps: 3 }), { onProgress: (p) => { if (p.preview) previews.push(p.preview); } });
    expect(fetched('/prev')).toContain('/taesd/vae_decoder/model.onnx');
    expect(previews).toHaveLength(3);
    expect(previews.every((p) => p.width === 64)).toBe(true);
    // The proof UNet predicts x0 exactly, so the TAESD preview of x0 is the final image — only with latent scale 1.
    const final = decodePng(res.png).data;
    expect(maxPixelDiff(previews[2]!.data, final)).toBeLessThanOrEqual(1);
    expect(one.width).toBe(64);
    await engine.closeAsync();
  });
});

describe('a manifest that moves to another revision', () => {
  it('re-downloads only the files whose sha256 changed; verified files are kept', async () => {
    const store = createMemoryStore();
    const v1 = serveModel('moving', '/rev1');
    const e1 = await engineFor([v1], store);
    await e1.downloadModelAsync('moving', () => {});
    await e1.closeAsync();
    // Revision 2: every URL moves; the text encoder and UNet are new files (another hidden size → other bytes and
    // sha256), the VAE files are byte-identical to revision 1's.
    const v2 = serveModel('moving', '/rev2', { hiddenSize: 9 });
    expect(v2.components.vae_decoder.files[0].sha256).toBe(v1.components.vae_decoder.files[0].sha256);
    expect(v2.components.unet.files[0].sha256).not.toBe(v1.components.unet.files[0].sha256);
    const e2 = await engineFor([v2], store);
    expect((await e2.listModelsAsync())[0]!.status).toBe('not-downloaded');
    await e2.downloadModelAsync('moving', () => {});
    expect(fetched('/rev2').sort()).toEqual(['/text_encoder/model.onnx', '/unet/model.onnx']);
    expect((await e2.listModelsAsync())[0]!.status).toBe('ready');
    await e2.generateAsync(request({ modelId: 'moving' }), {});
    await e2.closeAsync();
  });
});
