/**
 * The ComfyUI engine against the stand-in server (real HTTP + websocket on 127.0.0.1, the graph executed with
 * numeric stand-ins): every mode's wiring shows in the pixels, and every fault comes back in plain words.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AppError } from '../../protocol/errors';
import { decodePng, type RgbaImage } from '../../ui/core/image';
import type { GenerateProgress, GenerateRequest } from '../../ui/contracts/engine';
import { ComfyEngine, type ComfyEngineOptions } from '../../ui/runtime/remote/comfy-engine';
import { buildWorkflow, pickStyleRoute, readiness, type ServerInventory } from '../../ui/runtime/remote/comfy-workflows';
import { describeServerError } from '../../ui/runtime/remote/comfy-client';
import type { SocketLike } from '../../ui/runtime/remote/comfy-client';
import { startStandinAsync, type RunningStandin, type StandinOptions } from './server';

const CKPT = 'sd15-random.safetensors';
const running: RunningStandin[] = [];
const engines: ComfyEngine[] = [];

afterEach(async () => {
  for (const e of engines.splice(0)) e.close();
  for (const s of running.splice(0)) await s.closeAsync();
});

const socket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

async function setupAsync(opts: StandinOptions = {}, engineOpts: Partial<ComfyEngineOptions> = {}): Promise<{ s: RunningStandin; engine: ComfyEngine }> {
  const s = await startStandinAsync({ checkpoints: [CKPT, 'flux1-schnell-fp8.safetensors'], controlnets: ['control_v11p_sd15_lineart.safetensors'], styleModels: ['flux1-redux-dev.safetensors'], clipVision: ['sigclip_vision_patch14_384.safetensors'], ...opts });
  running.push(s);
  const engine = new ComfyEngine({ url: s.url, domains: [s.url], socket, pollMs: 40, probeReachableAsync: async () => false, ...engineOpts });
  engines.push(engine);
  return { s, engine };
}

function solid(width: number, height: number, rgb: [number, number, number], alpha = 255): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, alpha], i * 4);
  return { width, height, data };
}

/** 8×8-block-constant image (a VAE stand-in round trip keeps it exactly). */
function blocks(width: number, height: number): RgbaImage {
  const img = solid(width, height, [0, 0, 0]);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) {
    const bx = Math.floor(x / 8); const by = Math.floor(y / 8);
    img.data.set([(bx * 40) % 256, (by * 60) % 256, ((bx + by) * 30) % 256, 255], (y * width + x) * 4);
  }
  return img;
}

const base = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelId: `comfyui:${CKPT}`, mode: 'generate', prompt: 'a red cabin', negativePrompt: 'blurry', width: 64, height: 64, steps: 3, guidanceScale: 7, seed: 42, ...over,
});

const meanRgb = (img: RgbaImage, pick: (x: number, y: number) => boolean = () => true): [number, number, number] => {
  const m: [number, number, number] = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < img.height; y++) for (let x = 0; x < img.width; x++) {
    if (!pick(x, y)) continue;
    for (let c = 0; c < 3; c++) m[c] = (m[c] as number) + (img.data[(y * img.width + x) * 4 + c] as number);
    n++;
  }
  return m.map((v) => v / n) as [number, number, number];
};

async function errorOf(p: Promise<unknown>): Promise<AppError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(AppError);
  return e as AppError;
}

describe('ComfyUI engine against the stand-in', () => {
  it('health check lists models and names, per mode, the nodes and models the server lacks', async () => {
    const { engine } = await setupAsync({ controlnets: [], withoutNodes: ['StyleModelApply'] });
    const h = await engine.healthAsync();
    expect(h.summary).toMatch(/^ComfyUI 0\.3\.64 on cpu/);
    expect(h.checkpoints).toContain(CKPT);
    expect(h.modes.generate).toEqual({ ready: true, missing: [] });
    expect(h.modes.wireframe.ready).toBe(false);
    expect(h.modes.wireframe.missing).toEqual(['a ControlNet model in models/controlnet']);
    expect(h.modes.style.missing.join(', ')).toBe('the IP-Adapter nodes (ComfyUI_IPAdapter_plus), an IP-Adapter model in models/ipadapter, or else the node StyleModelApply');
    const models = engine.listModels();
    expect(models.map((m) => m.id)).toEqual([`comfyui:${CKPT}`, 'comfyui:flux1-schnell-fp8.safetensors']);
    expect(models[1]?.server?.family).toBe('flux');
    expect(models[1]?.defaults).toMatchObject({ steps: 4, guidance_scale: 3.5 });
    expect(models[0]?.capabilities.controlnet).toBe('none');
  });

  it('Generate: one websocket, progress per step with PNG preview frames, result from /view; the seed and prompt decide the image', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    const progress: GenerateProgress[] = [];
    const r1 = await engine.generateAsync(base(), CKPT, { onProgress: (p) => progress.push(p) });
    expect([r1.width, r1.height]).toEqual([64, 64]);
    expect(r1.provenance).toEqual({ engine: 'comfyui', models: [CKPT] });
    const denoise = progress.filter((p) => p.stage === 'denoise' && !p.preview && p.step > 0).map((p) => p.step);
    expect(denoise).toEqual([1, 2, 3]);
    const previews = progress.filter((p) => p.preview);
    expect(previews.length).toBeGreaterThan(0);
    expect(previews[0]?.preview?.width).toBe(8); // latent-resolution previews
    const same = await engine.generateAsync(base(), CKPT);
    expect(Buffer.from(same.png).equals(Buffer.from(r1.png))).toBe(true);
    const otherSeed = await engine.generateAsync(base({ seed: 43 }), CKPT);
    expect(Buffer.from(otherSeed.png).equals(Buffer.from(r1.png))).toBe(false);
    const otherPrompt = decodePng((await engine.generateAsync(base({ prompt: 'a blue lake' }), CKPT)).png);
    const d = meanRgb(otherPrompt).map((v, i) => Math.abs(v - (meanRgb(decodePng(r1.png))[i] as number)));
    expect(Math.max(...d)).toBeGreaterThan(10);
    expect(s.standin.sockets.size).toBe(1);
    const wsOpens = s.standin.requests.filter((r) => r.path.startsWith('/ws'));
    expect(wsOpens.length).toBeLessThanOrEqual(1); // upgrades are not logged as requests; no HTTP polling of /ws
  });

  it('Edit: strength is the sampler denoise (0 keeps the source, 1 ignores it)', async () => {
    const { engine } = await setupAsync();
    await engine.healthAsync();
    const src = blocks(64, 64);
    const keep = decodePng((await engine.generateAsync(base({ mode: 'edit', image: src, strength: 0 }), CKPT)).png);
    expect(Buffer.from(keep.data).equals(Buffer.from(src.data))).toBe(true);
    const full = decodePng((await engine.generateAsync(base({ mode: 'edit', image: src, strength: 1 }), CKPT)).png);
    const fullOther = decodePng((await engine.generateAsync(base({ mode: 'edit', image: solid(64, 64, [255, 255, 255]), strength: 1 }), CKPT)).png);
    expect(Buffer.from(full.data).equals(Buffer.from(fullOther.data))).toBe(true);
    const half = decodePng((await engine.generateAsync(base({ mode: 'edit', image: src, strength: 0.5 }), CKPT)).png);
    expect(Buffer.from(half.data).equals(Buffer.from(src.data))).toBe(false);
  });

  it('Inpaint: pixels outside the mask come back exactly; inside they change; the mask is grown on the server', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    const src = blocks(64, 64);
    const mask = solid(64, 64, [0, 0, 0]);
    for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) mask.data.set([255, 255, 255, 255], (y * 64 + x) * 4);
    const out = decodePng((await engine.generateAsync(base({ mode: 'inpaint', image: src, mask, strength: 1, maskGrow: 2 }), CKPT)).png);
    let outsideSame = true; let insideChanged = 0;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      const i = (y * 64 + x) * 4;
      const same = out.data[i] === src.data[i] && out.data[i + 1] === src.data[i + 1] && out.data[i + 2] === src.data[i + 2];
      const inside = x >= 16 && x < 48 && y >= 16 && y < 48;
      if (!inside && !same) outsideSame = false;
      if (inside && !same) insideChanged++;
    }
    expect(outsideSame).toBe(true);
    expect(insideChanged).toBeGreaterThan(32 * 32 * 0.9);
    const sent = [...s.standin.history.values()].at(-1)?.prompt as [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>];
    const grow = Object.values(sent[2]).find((n) => n.class_type === 'GrowMask');
    expect(grow?.inputs.expand).toBe(2);
  });

  it('Wireframe: the ControlNet image shapes the result (lines come out brighter than the space between)', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    const control = solid(64, 64, [0, 0, 0]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) if (x % 16 < 2) control.data.set([255, 255, 255, 255], (y * 64 + x) * 4);
    const out = decodePng((await engine.generateAsync(base({ mode: 'wireframe', control, controlScale: 1, controlType: 'lineart' }), CKPT)).png);
    const onLines = meanRgb(out, (x) => Math.floor(x / 8) % 2 === 0);
    const between = meanRgb(out, (x) => Math.floor(x / 8) % 2 === 1);
    expect(onLines[0] - between[0]).toBeGreaterThan(40);
    const sent = [...s.standin.history.values()].at(-1)?.prompt as [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>];
    expect(Object.values(sent[2]).find((n) => n.class_type === 'ControlNetLoader')?.inputs.control_net_name).toBe('control_v11p_sd15_lineart.safetensors');
  });

  it('Style reference: the reference image pulls the colours toward it (StyleModelApply on CLIP vision)', async () => {
    const { engine } = await setupAsync();
    await engine.healthAsync();
    const plain = meanRgb(decodePng((await engine.generateAsync(base(), CKPT)).png));
    const styled = meanRgb(decodePng((await engine.generateAsync(base({ styleImage: solid(32, 32, [0, 255, 0]), styleStrength: 1 }), CKPT)).png));
    expect(styled[1] - plain[1]).toBeGreaterThan(15);
  });

  it('Style reference through the IP-Adapter pack: the SD 1.5 file and its ViT-H vision model, weight = strength, on the MODEL', async () => {
    const { s, engine } = await setupAsync({
      styleModels: [], ipadapters: ['ip-adapter_sdxl.safetensors', 'ip-adapter-plus_sd15.safetensors', 'ip-adapter-faceid_sd15.bin'],
      clipVision: ['CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors', 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'],
    });
    const h = await engine.healthAsync();
    expect(h.modes.style).toEqual({ ready: true, missing: [] });
    const plain = meanRgb(decodePng((await engine.generateAsync(base(), CKPT)).png));
    const weak = meanRgb(decodePng((await engine.generateAsync(base({ styleImage: solid(32, 32, [0, 255, 0]), styleStrength: 0.2 }), CKPT)).png));
    const strong = meanRgb(decodePng((await engine.generateAsync(base({ styleImage: solid(32, 32, [0, 255, 0]), styleStrength: 1 }), CKPT)).png));
    expect(strong[1] - plain[1]).toBeGreaterThan(15);
    expect(strong[1] - weak[1]).toBeGreaterThan(8);
    const sent = [...s.standin.history.values()].at(-1)?.prompt as [number, string, Record<string, { class_type: string; inputs: Record<string, unknown> }>];
    const nodes = Object.entries(sent[2]);
    const find = (t: string) => nodes.find(([, n]) => n.class_type === t) as [string, { inputs: Record<string, unknown> }];
    expect(find('IPAdapterModelLoader')[1].inputs.ipadapter_file).toBe('ip-adapter-plus_sd15.safetensors');
    expect(find('CLIPVisionLoader')[1].inputs.clip_name).toBe('CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors');
    expect(find('IPAdapterAdvanced')[1].inputs).toMatchObject({ weight: 1, weight_type: 'style transfer' });
    expect(find('KSampler')[1].inputs.model).toEqual([find('IPAdapterAdvanced')[0], 0]);
  });

  it('style route per checkpoint family: SDXL file with ViT-bigG, Flux needs Redux, a missing family file is named', () => {
    const inv = (over: Partial<ServerInventory>): ServerInventory => ({
      nodes: new Set(['CLIPVisionLoader', 'CLIPVisionEncode', 'StyleModelLoader', 'StyleModelApply', 'LoadImage', 'IPAdapterModelLoader', 'IPAdapterAdvanced']),
      checkpoints: [CKPT], controlnets: [], styleModels: [], ipadapters: [], clipVision: [], ...over,
    });
    const both = inv({ ipadapters: ['ip-adapter_sd15.safetensors', 'ip-adapter_sdxl.safetensors'], clipVision: ['CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors', 'CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors'] });
    expect(pickStyleRoute(both, 'sdxl')).toEqual({ route: { kind: 'ipadapter', ipadapter: 'ip-adapter_sdxl.safetensors', clipVision: 'CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors' } });
    expect(pickStyleRoute(both, 'flux')).toEqual({ missing: 'a Flux style reference needs a style model in models/style_models (Flux Redux and its SigLIP vision model)' });
    const xlOnly = inv({ ipadapters: ['ip-adapter-plus_sdxl_vit-h.safetensors'], clipVision: ['CLIP-ViT-bigG-14-laion2B-39B-b160k.safetensors', 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors'] });
    expect(pickStyleRoute(xlOnly, 'sdxl')).toMatchObject({ route: { clipVision: 'CLIP-ViT-H-14-laion2B-s32B-b79K.safetensors' } });
    expect(pickStyleRoute(xlOnly, 'sd15')).toEqual({ missing: 'an IP-Adapter model for SD 1.5 in models/ipadapter (the server has ip-adapter-plus_sdxl_vit-h.safetensors)' });
    // One route short of only the CLIP vision model: that is all the server is told it needs.
    expect(readiness(inv({ ipadapters: ['ip-adapter_sd15.safetensors'] })).style).toEqual({ ready: false, missing: ['a CLIP vision model in models/clip_vision'] });
    expect(readiness(inv({ nodes: new Set(['LoadImage']) })).style.missing.join(', ')).toBe(
      'the IP-Adapter nodes (ComfyUI_IPAdapter_plus), the node CLIPVisionLoader, an IP-Adapter model in models/ipadapter, or else the node CLIPVisionLoader and the node CLIPVisionEncode and the node StyleModelLoader and the node StyleModelApply and a style model in models/style_models, plus a CLIP vision model in models/clip_vision',
    );
    const redux = inv({ styleModels: ['flux1-redux-dev.safetensors'], clipVision: ['sigclip_vision_patch14_384.safetensors'] });
    expect(pickStyleRoute(redux, 'flux')).toEqual({ route: { kind: 'style-model', styleModel: 'flux1-redux-dev.safetensors', clipVision: 'sigclip_vision_patch14_384.safetensors' } });
  });

  it('a style reference the server cannot apply fails before anything is uploaded or queued, naming what it lacks', async () => {
    const { s, engine } = await setupAsync({ styleModels: [] });
    await engine.healthAsync();
    const before = s.standin.requests.length;
    const e = await errorOf(engine.generateAsync(base({ styleImage: solid(32, 32, [0, 255, 0]) }), CKPT));
    expect(e.code).toBe('MODEL_NOT_READY');
    expect(e.message).toBe(`The server cannot apply a style reference with ${CKPT}: it lacks the IP-Adapter nodes (ComfyUI_IPAdapter_plus), an IP-Adapter model in models/ipadapter, or else a style model in models/style_models.`);
    expect(s.standin.requests.slice(before)).toEqual([]);
  });

  it('Flux: cfg 1 and a FluxGuidance node carry the guidance; few-step defaults', () => {
    const wf = buildWorkflow(base({ guidanceScale: 3.5, steps: 4 }), { checkpoint: 'flux1-schnell-fp8.safetensors', family: 'flux' }, {});
    const nodes = Object.values(wf.prompt);
    expect(nodes.find((n) => n.class_type === 'KSampler')?.inputs).toMatchObject({ cfg: 1, steps: 4, sampler_name: 'euler', scheduler: 'simple' });
    expect(nodes.find((n) => n.class_type === 'FluxGuidance')?.inputs.guidance).toBe(3.5);
  });

  it('the stand-in refuses a mis-wired graph as ComfyUI does (type mismatch, unknown node, value not in list)', async () => {
    const { engine } = await setupAsync();
    const wf = buildWorkflow(base(), { checkpoint: CKPT, family: 'sd15' }, {});
    const ks = Object.values(wf.prompt).find((n) => n.class_type === 'KSampler') as { inputs: Record<string, unknown> };
    ks.inputs.positive = ['1', 2]; // the VAE output into a CONDITIONING input
    const e1 = await errorOf(engine.client.queuePromptAsync(wf.prompt, 'p1'));
    expect(e1.message).toMatch(/KSampler #\d+: Return type mismatch between linked nodes \(positive, received_type\(VAE\) mismatch input_type\(CONDITIONING\)\)/);
    const wf2 = buildWorkflow(base(), { checkpoint: 'missing-model.safetensors', family: 'sd15' }, {});
    const e2 = await errorOf(engine.client.queuePromptAsync(wf2.prompt, 'p2'));
    expect(e2.message).toContain('CheckpointLoaderSimple #1: the server has no ckpt "missing-model.safetensors"');
    const wf3 = { ...wf2.prompt, 99: { class_type: 'IPAdapterUnifiedLoader', inputs: {} } };
    const e3 = await errorOf(engine.client.queuePromptAsync(wf3, 'p3'));
    expect(e3.message).toContain('the server has no node "IPAdapterUnifiedLoader"');
    expect(describeServerError('not json')).toBeNull();
  });
});

describe('faults in plain words, nothing half-done', () => {
  it('server down', async () => {
    const { s } = await setupAsync();
    const url = s.url;
    await s.closeAsync();
    running.splice(0);
    const engine = new ComfyEngine({ url, domains: [url], socket, probeReachableAsync: async () => false });
    const e = await errorOf(engine.healthAsync());
    expect(e.code).toBe('SERVER_UNREACHABLE');
    expect(e.message).toMatch(/^Could not reach the server at http:\/\/127\.0\.0\.1:\d+/);
    expect(e.hint).toMatch(/Is ComfyUI running/);
  });

  it('wrong token, and the right one is sent as a Bearer header', async () => {
    const { s } = await setupAsync({ token: 'sekret' });
    const bad = new ComfyEngine({ url: s.url, token: 'wrong', domains: [s.url], socket });
    const e = await errorOf(bad.healthAsync());
    expect(e.message).toMatch(/refused the access token \(HTTP 401\)/);
    const good = new ComfyEngine({ url: s.url, token: 'sekret', domains: [s.url], socket });
    engines.push(good);
    await good.healthAsync();
    expect(s.standin.requests.at(-1)?.auth).toBe('Bearer sekret');
  });

  it('CORS refused: the browser hides the response, the probe shows the server is up → name --enable-cors-header', async () => {
    const { s } = await setupAsync();
    // What a browser does without Access-Control-Allow-Origin: the fetch rejects with a bare TypeError.
    const browserFetch = async (u: string, i?: RequestInit) => {
      const res = await fetch(u, i);
      if (!res.headers.get('access-control-allow-origin')) throw new TypeError('Failed to fetch');
      return res;
    };
    const engine = new ComfyEngine({ url: s.url, domains: [s.url], socket, fetch: browserFetch, probeReachableAsync: async () => true });
    const e = await errorOf(engine.healthAsync());
    expect(e.message).toMatch(/answered, but refused requests from the plugin \(CORS\)/);
    expect(e.hint).toContain('--enable-cors-header');
  });

  it('the default origin-only middleware 403s a mismatched Origin on a loopback host; Origin "null" passes', async () => {
    const { s } = await setupAsync();
    const r1 = await fetch(`${s.url}/system_stats`, { headers: { Origin: 'http://localhost:9999' } });
    expect(r1.status).toBe(403);
    const r2 = await fetch(`${s.url}/system_stats`, { headers: { Origin: 'null' } });
    expect(r2.status).toBe(200);
    expect(r2.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('missing model and missing node are refused before anything is queued', async () => {
    const { s, engine } = await setupAsync({ controlnets: [] });
    await engine.healthAsync();
    const e = await errorOf(engine.generateAsync(base({ mode: 'wireframe', control: solid(64, 64, [0, 0, 0]) }), CKPT));
    expect(e.message).toBe('The server cannot do Wireframe → mockup: it lacks a ControlNet model in models/controlnet.');
    const e2 = await errorOf(engine.generateAsync(base(), 'gone.safetensors'));
    expect(e2.message).toContain('no model named "gone.safetensors"');
    expect(s.standin.requests.some((r) => r.method === 'POST')).toBe(false);
  });

  it('server-side error text comes back, naming the node', async () => {
    const { engine } = await setupAsync({ failNode: { classType: 'KSampler', message: 'CUDA out of memory. Tried to allocate 2.00 GiB\nmore' } });
    await engine.healthAsync();
    const e = await errorOf(engine.generateAsync(base(), CKPT));
    expect(e.code).toBe('SERVER_ERROR');
    expect(e.message).toBe('The server failed in KSampler: CUDA out of memory. Tried to allocate 2.00 GiB');
    expect(e.hint).toMatch(/smaller size/);
  });

  it('busy server: the queue position is shown while waiting; cancel while queued deletes it and nothing runs', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    s.standin.paused = true;
    // Two prompts of another client ahead.
    const other = new ComfyEngine({ url: s.url, domains: [s.url], socket });
    engines.push(other);
    await other.healthAsync();
    const ahead = [other.generateAsync(base({ seed: 1 }), CKPT).catch(() => null), other.generateAsync(base({ seed: 2 }), CKPT).catch(() => null)];
    await new Promise((r) => setTimeout(r, 150));
    const ctl = new AbortController();
    const progress: GenerateProgress[] = [];
    const p = engine.generateAsync(base(), CKPT, { signal: ctl.signal, onProgress: (x) => progress.push(x) });
    await expect.poll(() => progress.some((x) => x.stage === 'queued' && x.queuePosition === 2), { timeout: 3000 }).toBe(true);
    const mine = s.standin.queue.at(-1)?.id;
    ctl.abort();
    const e = await errorOf(p);
    expect(e.code).toBe('CANCELLED');
    await expect.poll(() => s.standin.queue.some((q) => q.id === mine), { timeout: 2000 }).toBe(false);
    s.standin.resume();
    await Promise.all(ahead);
    expect(s.standin.history.has(mine as string)).toBe(false);
  });

  it('cancel while running interrupts that prompt on the server', async () => {
    const { s, engine } = await setupAsync({ stepMs: 40 });
    await engine.healthAsync();
    const ctl = new AbortController();
    const p = engine.generateAsync(base({ steps: 30 }), CKPT, { signal: ctl.signal, onProgress: (x) => { if (x.stage === 'denoise' && x.step === 2) ctl.abort(); } });
    expect((await errorOf(p)).code).toBe('CANCELLED');
    await expect.poll(() => [...s.standin.history.values()].at(-1)?.status, { timeout: 3000 }).toMatchObject({ status_str: 'error' });
    const h = [...s.standin.history.values()].at(-1) as { status: { messages: [string, unknown][] } };
    expect(h.status.messages.map((m) => m[0])).toContain('execution_interrupted');
  });

  it('socket dropped mid-run: reconnects with the same client id and follows the same prompt to its image', async () => {
    const { s, engine } = await setupAsync({ stepMs: 30 });
    await engine.healthAsync();
    s.standin.dropSocketsAtStep = 2;
    const r = await engine.generateAsync(base({ steps: 6 }), CKPT);
    expect(r.width).toBe(64);
    expect(s.standin.history.size).toBe(1);
    expect([...s.standin.sockets.keys()]).toEqual([engine.client.clientId]);
  });

  it('no websocket at all (a proxy that refuses it): the prompt is followed through /queue and /history', async () => {
    const { s, engine } = await setupAsync({ stepMs: 10 });
    s.standin.refuseSockets = true;
    await engine.healthAsync();
    const r = await engine.generateAsync(base(), CKPT);
    expect(r.width).toBe(64);
    expect(s.standin.requests.some((q) => q.path.startsWith('/history/'))).toBe(true);
  });

  it('socket dropped and the server gone: fails cleanly in plain words', async () => {
    const { s, engine } = await setupAsync({ stepMs: 30 });
    await engine.healthAsync();
    const p = engine.generateAsync(base({ steps: 50 }), CKPT, { onProgress: (x) => { if (x.stage === 'denoise' && x.step === 2) void s.closeAsync(); } });
    const e = await errorOf(p);
    expect(e.code).toBe('SERVER_UNREACHABLE');
    // Either the socket's loss or the next HTTP request notices first; both say so plainly.
    expect(e.message).toMatch(/dropped during the run and did not come back|^Could not reach the server at/);
    running.splice(0);
  });

  it('a server the allowlist does not name is never contacted', async () => {
    const { s } = await setupAsync();
    const engine = new ComfyEngine({ url: s.url, domains: ['http://127.0.0.1:8188'], socket });
    const e = await errorOf(engine.healthAsync());
    expect(e.code).toBe('NETWORK_NOT_ALLOWED');
    expect(s.standin.requests).toHaveLength(0);
  });
});
