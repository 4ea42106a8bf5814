import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_GPU, nodeOrt as ort } from '../helpers/node-engine';
import { AppError } from '../../protocol/errors';
import { decodePng, createImage } from '../../ui/core/image';
import type { GenerateRequest } from '../../ui/contracts/engine';
import { createEngineAsync, type Engine } from '../../ui/runtime/engine';
import { createEngineClient } from '../../ui/runtime/engine-client';
import { attachEngineHost, type PortLike } from '../../ui/runtime/worker/engine-host';
import type { SessionEvent } from '../../ui/runtime/session-manager';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { WORD_COLOURS } from '../models/proof-fixture';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog, type ServedProof } from './proof-catalog-server';


let server: FaultServer;
let proof: ServedProof;
beforeAll(async () => {
  server = await startFaultServerAsync();
  proof = serveProofCatalog(server, [
    { id: 'proof-turbo', options: { inpaint: 'blend', maxSide: 256 } },
    { id: 'proof-cn', options: { controlnet: 'separate', maxSide: 256 } },
  ]);
});
afterAll(async () => { await server.closeAsync(); });

const request = (o: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelId: 'proof-turbo', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 42, ...o,
});

function meanColour(png: Uint8Array): number[] {
  const img = decodePng(png);
  const sum = [0, 0, 0];
  for (let i = 0; i < img.data.length; i += 4) for (let c = 0; c < 3; c++) sum[c]! += img.data[i + c]!;
  return sum.map((s) => s / (img.width * img.height));
}

async function newEngineAsync(extra: Partial<Parameters<typeof createEngineAsync>[0]> = {}): Promise<Engine> {
  return createEngineAsync({
    ort, store: createMemoryStore(), network: { domains: [server.url] }, adapter: NO_GPU, catalog: [],
    devCatalogUrl: proof.indexUrl, downloadTuning: { sleep: async () => {}, progressIntervalMs: 0 }, ...extra,
  });
}

describe('engine (in-thread mode, ORT wasm in Node)', () => {
  it('lists, downloads (with progress), generates the proof answer, counts tokens and deletes', async () => {
    const engine = await newEngineAsync();
    const caps = await engine.capabilitiesAsync();
    expect(caps).toMatchObject({ webgpu: false, provider: 'wasm', persistentStorage: false, wasmThreads: 1 });
    expect(caps.reason).toMatch(/Node has no WebGPU/);
    expect(caps.storageReason).toMatch(/null/);
    const before = await engine.listModelsAsync();
    expect(before.find((m) => m.id === 'proof-turbo')).toMatchObject({ status: 'not-downloaded', dtype: 'float32' });
    await expect(engine.generateAsync(request(), {})).rejects.toMatchObject({ code: 'MODEL_NOT_READY' });

    const progress: number[] = [];
    await engine.downloadModelAsync('proof-turbo', (p) => progress.push(p.bytes / p.total));
    expect(progress.at(-1)).toBe(1);
    expect((await engine.listModelsAsync()).find((m) => m.id === 'proof-turbo')!.status).toBe('ready');

    const stages: string[] = [];
    const result = await engine.generateAsync(request(), { onProgress: (p) => stages.push(p.stage) });
    expect(result).toMatchObject({ width: 64, height: 64, seed: 42, droppedTokens: 0 });
    // How to reproduce it with diffusers travels with the result (into the layer's recipe).
    expect(result.reproduce).toMatchObject({ pipeline: 'StableDiffusionPipeline', seed: '42', generator: 'cpu', exact: true, departures: [] });
    expect(result.reproduce!.scheduler._class_name).toBe('EulerDiscreteScheduler');
    const mean = meanColour(result.png);
    WORD_COLOURS.red.forEach((c, i) => expect(Math.abs(mean[i]! - c)).toBeLessThan(1.5));
    expect(stages).toEqual(expect.arrayContaining(['text', 'denoise', 'decode']));
    expect(await engine.tokenCountAsync('proof-turbo', 'a red cat')).toBe(3);

    await engine.deleteModelAsync('proof-turbo');
    expect((await engine.listModelsAsync()).find((m) => m.id === 'proof-turbo')!.status).toBe('not-downloaded');
    await engine.closeAsync();
  });

  it('cancelling stops the pipeline within one step', async () => {
    const engine = await newEngineAsync();
    await engine.downloadModelAsync('proof-turbo', () => {});
    const ac = new AbortController();
    let denoiseSteps = 0;
    const err = await engine.generateAsync(request({ steps: 8 }), { signal: ac.signal, onProgress: (p) => { if (p.stage === 'denoise') { denoiseSteps++; ac.abort(); } } }).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('CANCELLED');
    expect(denoiseSteps).toBe(1);
    await engine.closeAsync();
  });

  it('"low-memory" releases text encoder → UNet → VAE in order; "fast" keeps them warm', async () => {
    for (const policy of ['low-memory', 'fast'] as const) {
      const events: string[] = [];
      const engine = await newEngineAsync({ policy, onSessionEvent: (e: SessionEvent) => { if (e.type === 'create' || e.type === 'release') events.push(`${e.type} ${e.role}`); } });
      await engine.downloadModelAsync('proof-turbo', () => {});
      await engine.generateAsync(request(), {});
      await engine.generateAsync(request({ seed: 7 }), {});
      if (policy === 'low-memory') {
        const one = ['create text_encoder', 'release text_encoder', 'create unet', 'release unet', 'create vae_decoder', 'release vae_decoder'];
        expect(events).toEqual([...one, ...one]);
      } else {
        expect(events).toEqual(['create text_encoder', 'create unet', 'create vae_decoder']);
      }
      await engine.closeAsync();
    }
  });

  it('ControlNet (wireframe mode) runs the separate ControlNet with the UNet', async () => {
    const engine = await newEngineAsync({ policy: 'low-memory' });
    await engine.downloadModelAsync('proof-cn', () => {});
    const control = createImage(64, 64, [0, 0, 0, 255]);
    const plain = await engine.generateAsync(request({ modelId: 'proof-cn', mode: 'wireframe', control, controlScale: 0 }), {});
    const white = createImage(64, 64, [255, 255, 255, 255]);
    const lit = await engine.generateAsync(request({ modelId: 'proof-cn', mode: 'wireframe', control: white, controlScale: 1 }), {});
    // The proof ControlNet brightens by 0.5 (in [-1,1]) per unit of control: +~64 per channel in bytes.
    const [a, b] = [meanColour(plain.png), meanColour(lit.png)];
    expect(b[1]! - a[1]!).toBeGreaterThan(40);
    await engine.closeAsync();
  });

  it('a model from a picked folder is verified (sha256) and runs without downloading its files', async () => {
    const engine = await newEngineAsync();
    const files = proof.files['proof-turbo']!;
    const picked = Object.entries(files).map(([role, bytes]) => ({ path: `my-models/proof-turbo/${role}/model.onnx`, file: new Blob([bytes as BlobPart]) }));
    const before = server.log.filter((l) => l.path.endsWith('.onnx')).length;
    await engine.loadModelFromPickedAsync('proof-turbo', picked, () => {});
    expect(server.log.filter((l) => l.path.endsWith('.onnx')).length).toBe(before);
    expect((await engine.listModelsAsync()).find((m) => m.id === 'proof-turbo')!.status).toBe('ready');
    const result = await engine.generateAsync(request(), {});
    expect(Math.abs(meanColour(result.png)[0]! - WORD_COLOURS.red[0])).toBeLessThan(1.5);
    // A damaged file in the folder is refused.
    const bad = picked.map((p) => (p.path.includes('unet') ? { ...p, file: new Blob([Uint8Array.from(files.unet!, (x, i) => (i === 100 ? x ^ 1 : x)) as BlobPart]) } : p));
    await expect(engine.loadModelFromPickedAsync('proof-turbo', bad, () => {})).rejects.toMatchObject({ code: 'INTEGRITY_MISMATCH', message: expect.stringMatching(/unet\/model\.onnx/) });
    await expect(engine.loadModelFromPickedAsync('proof-turbo', picked.slice(1), () => {})).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/is missing/) });
    await engine.closeAsync();
  });

  it('a manifest whose I/O names differ from the model runs (the model\'s own names are bound); one that needs an input the model lacks fails with MODEL_MISMATCH listing the real I/O', async () => {
    const raw = structuredClone(proof.manifests['proof-turbo']!);
    raw.id = 'proof-other-names';
    raw.components.text_encoder.inputs[0].name = 'tokens';
    raw.components.unet.inputs[0].name = 'latents';
    raw.components.unet.inputs[2].name = 'context';
    raw.components.unet.outputs[0].name = 'noise_pred';
    raw.components.vae_decoder.outputs[0].name = 'image';
    const engine = await newEngineAsync();
    await engine.addCustomModelAsync(raw);
    await engine.downloadModelAsync('proof-other-names', () => {});
    const ok = await engine.generateAsync(request({ modelId: 'proof-other-names' }), {});
    expect(ok.width).toBeGreaterThan(0);
    const wrong = structuredClone(proof.manifests['proof-turbo']!);
    wrong.id = 'proof-wrong-io';
    wrong.components.unet.inputs.push({ name: 'added_time_ids', dtype: 'float32', dims: [1, 6] });
    await engine.addCustomModelAsync(wrong);
    await engine.downloadModelAsync('proof-wrong-io', () => {});
    const err = await engine.generateAsync(request({ modelId: 'proof-wrong-io' }), {}).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('MODEL_MISMATCH');
    expect(err?.message).toMatch(/unet of .* cannot be used: it has no input for "added_time_ids"\. The model's inputs "sample" float32/);
    await engine.closeAsync();
  });
});

describe('engine worker protocol (host + client over a MessageChannel)', () => {
  function connect(extra: Parameters<typeof createEngineClient>[0] extends infer O ? Partial<O> : never = {}) {
    const channel = new MessageChannel();
    attachEngineHost(channel.port1 as unknown as PortLike, { ort, openStoreAsync: async () => createMemoryStore(), probeAdapterAsync: async () => ({ info: NO_GPU }) });
    channel.port1.start();
    const client = createEngineClient({
      createWorker: () => channel.port2 as unknown as never, wasm: { kind: 'default' }, devCatalogUrl: proof.indexUrl,
      extraAllowedDomains: [server.url], ...extra,
    });
    return { client, close: () => { channel.port1.close(); channel.port2.close(); } };
  }

  it('downloads and generates through validated messages, and cancels within a step', async () => {
    const { client, close } = connect();
    try {
      expect((await client.capabilitiesAsync()).provider).toBe('wasm');
      const progress: number[] = [];
      await client.downloadModelAsync('proof-turbo', (p) => progress.push(p.bytes));
      expect(progress.length).toBeGreaterThan(0);
      const r = await client.generateAsync(request(), {});
      expect(r.png).toBeInstanceOf(Uint8Array);
      expect(Math.abs(meanColour(r.png)[2]! - WORD_COLOURS.red[2])).toBeLessThan(1.5);

      const ac = new AbortController();
      const stepsSeen: number[] = [];
      const p = client.generateAsync(request({ steps: 8 }), { signal: ac.signal, onProgress: (x) => { if (x.stage === 'denoise') { stepsSeen.push(x.step); ac.abort(); } } });
      await expect(p).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(stepsSeen).toEqual([1]); // rejected at once: no progress after the abort reaches the caller
      // The worker stopped that run and takes the next one.
      const again = await client.generateAsync(request({ prompt: 'blue' }), {});
      expect(Math.abs(meanColour(again.png)[2]! - WORD_COLOURS.blue[2])).toBeLessThan(1.5);
    } finally {
      close();
    }
  });

  it('a bad request is answered with INVALID_INPUT naming the field, and the engine keeps working', async () => {
    const { client, close } = connect();
    try {
      await expect(client.generateAsync(request({ steps: 0 }), {})).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/args\.0\.steps/) });
      const img = { width: 4, height: 4, data: new Uint8ClampedArray(10) };
      await expect(client.generateAsync(request({ mode: 'edit', image: img }), {})).rejects.toMatchObject({ message: expect.stringMatching(/args\.0\.image: expected 64 RGBA bytes for 4×4, got 10/) });
      await expect(client.deleteModelAsync('nope')).rejects.toMatchObject({ code: 'INVALID_INPUT', message: expect.stringMatching(/Unknown model "nope"/) });
      expect(Array.isArray(await client.listModelsAsync())).toBe(true);
    } finally {
      close();
    }
  });
});
