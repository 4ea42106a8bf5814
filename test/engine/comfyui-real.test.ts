/**
 * Opt-in: the ComfyUI client against a REAL ComfyUI server, and the stand-in checked against what that server sends.
 *   COMFYUI_URL=http://127.0.0.1:8188 npm run test:engine
 * (optional COMFYUI_MODEL=<checkpoint file>, default: the server's first checkpoint). Skipped unless COMFYUI_URL is
 * set. Runs at 64×64 with 2 steps so a CPU-only server (`python main.py --cpu --enable-cors-header
 * --preview-method latent2rgb`) with a full-size SD 1.5 checkpoint answers in seconds. See README "Remote engines".
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AppError } from '../../protocol/errors';
import { decodePng, encodePng, type RgbaImage } from '../../ui/core/image';
import type { GenerateProgress, GenerateRequest } from '../../ui/contracts/engine';
import { ComfyEngine } from '../../ui/runtime/remote/comfy-engine';
import type { SocketLike } from '../../ui/runtime/remote/comfy-client';
import { buildWorkflow, pickStyleRoute, type ServerInventory } from '../../ui/runtime/remote/comfy-workflows';
import { comboOptions } from '../../ui/runtime/remote/comfy-protocol';
import { parseBinaryFrame } from '../../ui/runtime/remote/comfy-protocol';
import { startStandinAsync, type RunningStandin } from '../comfy-standin/server';

const URL_ = process.env.COMFYUI_URL;
const run = URL_ ? describe : describe.skip;

/** Records every websocket message (JSON types and raw binary frames) while passing it on. */
function recordingSocket(log: { json: { type: string; data: Record<string, unknown> }[]; binary: Uint8Array[] }) {
  return (url: string): SocketLike => {
    const ws = new WebSocket(url);
    ws.on('message', (data, isBinary) => {
      if (isBinary) log.binary.push(new Uint8Array(data as Buffer));
      else log.json.push(JSON.parse(String(data)) as { type: string; data: Record<string, unknown> });
    });
    return ws as unknown as SocketLike;
  };
}

const shape = (v: unknown): unknown => {
  if (Array.isArray(v)) return v.length ? ['array', shape(v[0])] : ['array'];
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, shape((v as Record<string, unknown>)[k])]));
  return v === null ? 'null' : typeof v;
};
const keys = (v: unknown): string[] => Object.keys(v as object).sort();

function solid(width: number, height: number, rgb: [number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([...rgb, 255], i * 4);
  return { width, height, data };
}

run('real ComfyUI server (COMFYUI_URL)', () => {
  const url = URL_ as string;
  const log = { json: [] as { type: string; data: Record<string, unknown> }[], binary: [] as Uint8Array[] };
  let engine: ComfyEngine;
  let model: string;
  let standin: RunningStandin;
  const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    modelId: `comfyui:${model}`, mode: 'generate', prompt: 'a red cabin in the snow', negativePrompt: 'blurry', width: 64, height: 64,
    steps: 2, guidanceScale: 7, seed: 7, ...over,
  });

  beforeAll(async () => {
    engine = new ComfyEngine({ url, domains: [new URL(url).origin], socket: recordingSocket(log), pollMs: 500 });
    const h = await engine.healthAsync();
    model = process.env.COMFYUI_MODEL ?? (h.checkpoints[0] as string);
    standin = await startStandinAsync({ checkpoints: [model] });
  }, 60_000);

  afterAll(async () => {
    engine?.close();
    await standin?.closeAsync();
  });

  it('health check: version, device, checkpoints, and per-mode readiness in plain words', async () => {
    const h = await engine.healthAsync();
    expect(h.summary).toMatch(/^ComfyUI \d+\.\d+\.\d+/);
    expect(h.checkpoints).toContain(model);
    expect(h.modes.generate).toEqual({ ready: true, missing: [] });
    expect(h.modes.edit.ready).toBe(true);
    expect(h.modes.inpaint.ready).toBe(true);
    if (h.controlnets.length === 0) expect(h.modes.wireframe.missing).toContain('a ControlNet model in models/controlnet');
  });

  it('Generate 64×64, 2 steps: progress, binary preview frames with the 8-byte header, a PNG back', async () => {
    const progress: GenerateProgress[] = [];
    const r = await engine.generateAsync(req(), model, { onProgress: (p) => progress.push(p) });
    expect([r.width, r.height]).toEqual([64, 64]);
    expect(decodePng(r.png).width).toBe(64);
    expect(progress.filter((p) => p.stage === 'denoise' && p.step > 0 && !p.preview).map((p) => p.step)).toEqual([1, 2]);
    // The real event sequence for our prompt.
    const mine = log.json.filter((m) => (m.data as { prompt_id?: string }).prompt_id !== undefined);
    const types = mine.map((m) => m.type);
    expect(types[0]).toBe('execution_start');
    expect(types).toEqual(expect.arrayContaining(['execution_cached', 'executing', 'progress', 'executed', 'execution_success']));
    expect(mine.at(-1)).toMatchObject({ type: 'executing', data: { node: null } });
    // Binary previews (latent2rgb → JPEG): >I event 1, >I format 1 (JPEG), then the image.
    if (log.binary.length > 0) {
      const f = log.binary[0] as Uint8Array;
      const view = new DataView(f.buffer, f.byteOffset, f.byteLength);
      expect(view.getUint32(0, false)).toBe(1);
      expect([1, 2]).toContain(view.getUint32(4, false));
      const parsed = parseBinaryFrame(f);
      expect(parsed?.kind).toBe('preview');
      if (parsed?.kind === 'preview' && parsed.mime === 'image/jpeg') expect([...parsed.bytes.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    }
    const same = await engine.generateAsync(req(), model);
    expect(Buffer.from(same.png).equals(Buffer.from(r.png))).toBe(true);
  }, 300_000);

  it('Edit and Inpaint: outside the mask the source comes back exactly (ImageCompositeMasked)', async () => {
    const src = solid(64, 64, [40, 120, 200]);
    const edit = await engine.generateAsync(req({ mode: 'edit', image: src, strength: 0.5 }), model);
    expect(edit.width).toBe(64);
    const mask = solid(64, 64, [0, 0, 0]);
    for (let y = 16; y < 48; y++) for (let x = 16; x < 48; x++) mask.data.set([255, 255, 255, 255], (y * 64 + x) * 4);
    const out = decodePng((await engine.generateAsync(req({ mode: 'inpaint', image: src, mask, strength: 1, maskGrow: 2 }), model)).png);
    let outsideSame = 0; let outside = 0;
    for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) {
      if (x >= 12 && x < 52 && y >= 12 && y < 52) continue;
      outside++;
      const i = (y * 64 + x) * 4;
      if (out.data[i] === 40 && out.data[i + 1] === 120 && out.data[i + 2] === 200) outsideSame++;
    }
    expect(outsideSame).toBe(outside);
  }, 300_000);

  it('a missing model and a missing node: the real error bodies come back in plain words', async () => {
    const bad = buildWorkflow(req(), { checkpoint: 'no-such-model.safetensors', family: 'sd15' }, {});
    const e1 = await engine.client.queuePromptAsync(bad.prompt, 'x1').then(() => null, (e: unknown) => e as AppError);
    expect(e1?.message).toContain('CheckpointLoaderSimple #1: the server has no ckpt "no-such-model.safetensors"');
    const e2 = await engine.client.queuePromptAsync({ ...bad.prompt, 99: { class_type: 'NoSuchNode', inputs: {} } }, 'x2').then(() => null, (e: unknown) => e as AppError);
    expect(e2?.message).toContain('the server has no node "NoSuchNode"');
  });

  it('cancel while queued: deleted from the queue, never run', async () => {
    const first = engine.generateAsync(req({ seed: 11 }), model);
    const ctl = new AbortController();
    const progress: GenerateProgress[] = [];
    const second = engine.generateAsync(req({ seed: 12 }), model, { signal: ctl.signal, onProgress: (p) => progress.push(p) });
    await expect.poll(() => progress.some((p) => p.stage === 'queued' && p.queuePosition === 1), { timeout: 30_000 }).toBe(true);
    ctl.abort();
    expect(((await second.catch((e: unknown) => e)) as AppError).code).toBe('CANCELLED');
    await first;
    const q = await engine.client.queueAsync();
    expect(q.queue_pending).toEqual([]);
  }, 300_000);

  /**
   * Style reference: the nodes' /object_info on the real server (core CLIPVisionLoader/CLIPVisionEncode/
   * StyleModelLoader/StyleModelApply and, when installed, ComfyUI_IPAdapter_plus's IPAdapterModelLoader/
   * IPAdapterAdvanced) against the stand-in — input names, types, combo values — and the real server's own validation
   * of both style workflows: with a checkpoint name it does not have, node 1 is the only node with errors, so every
   * style node's inputs, links and values passed. Needs at least one file in models/clip_vision and in
   * models/style_models (and models/ipadapter for the IP-Adapter route); parts without them are skipped.
   */
  it('style reference: node shapes match the real server and both style workflows pass its validation', async () => {
    const get = async (base: string, path: string): Promise<unknown> => (await fetch(`${base}${path}`)).json();
    type Info = Record<string, { input: { required: Record<string, unknown[]>; optional?: Record<string, unknown[]> }; output: string[] }>;
    const realInfo = await get(url, '/object_info') as Info;
    const lists = {
      clipVision: comboOptions(realInfo.CLIPVisionLoader?.input.required.clip_name),
      styleModels: comboOptions(realInfo.StyleModelLoader?.input.required.style_model_name),
      ipadapters: comboOptions(realInfo.IPAdapterModelLoader?.input.required.ipadapter_file),
    };
    const pack = Boolean(realInfo.IPAdapterModelLoader && realInfo.IPAdapterAdvanced);
    const styled = await startStandinAsync({ checkpoints: [model], clipVision: lists.clipVision, styleModels: lists.styleModels, ...(pack ? { ipadapters: lists.ipadapters } : {}) });
    try {
      const fakeInfo = await get(styled.url, '/object_info') as Info;
      const nodes = ['CLIPVisionLoader', 'CLIPVisionEncode', 'StyleModelLoader', 'StyleModelApply', ...(pack ? ['IPAdapterModelLoader', 'IPAdapterAdvanced'] : [])];
      for (const node of nodes) {
        const real = realInfo[node]; const fake = fakeInfo[node];
        for (const part of ['required', 'optional'] as const) {
          const r = real?.input[part] ?? {}; const f = fake?.input[part] ?? {};
          expect(keys(f), `${node}.${part}`).toEqual(keys(r));
          // Same type, or the same combo values (model lists are the server's files, passed to the stand-in above).
          for (const k of keys(r)) expect(JSON.stringify(f[k]?.[0]), `${node}.${k}`).toEqual(JSON.stringify(r[k]?.[0]));
        }
        expect(fake?.output, node).toEqual(real?.output);
      }
      const inv: ServerInventory = { nodes: new Set(Object.keys(realInfo)), checkpoints: [model], controlnets: [], ...lists };
      // The engine's own health check reads the same lists from the real /object_info.
      const health = await engine.healthAsync();
      if (lists.clipVision.length > 0 && (lists.styleModels.length > 0 || (pack && lists.ipadapters.length > 0))) expect(health.modes.style).toEqual({ ready: true, missing: [] });
      else expect(health.modes.style.ready).toBe(false);
      const routes = [pickStyleRoute(inv, 'sd15'), pickStyleRoute(inv, 'flux')];
      const post = async (body: unknown) => { const r = await fetch(`${url}/prompt`, { method: 'POST', body: JSON.stringify(body) }); return { status: r.status, json: await r.json() as { node_errors: Record<string, { class_type: string }> } }; };
      let checked = 0;
      for (const picked of routes) {
        if (!('route' in picked)) continue;
        const wf = buildWorkflow(req({ styleImage: solid(8, 8, [0, 255, 0]), styleStrength: 0.7 }), { checkpoint: 'no-such-model.safetensors', family: 'sd15', style: picked.route }, { style: 'example.png' });
        const res = await post({ prompt: wf.prompt });
        expect(res.status).toBe(400);
        expect(Object.keys(res.json.node_errors), JSON.stringify(res.json.node_errors).slice(0, 600)).toEqual(['1']);
        checked++;
      }
      console.log(`style: real server ${pack ? 'has' : 'lacks'} the IP-Adapter pack; compared ${nodes.join(', ')}; ${checked} style workflow(s) validated (${routes.map((r) => ('route' in r ? r.route.kind : r.missing)).join(' | ')})`);
    } finally {
      await styled.closeAsync();
    }
  }, 120_000);

  /**
   * Style reference executed by the real server when it has the files (random-weight ones are enough; see README): the
   * route the engine picks for the checkpoint runs through generateAsync (upload, queue, socket, /view), and the other
   * route, when the server also has it, through the same workflow builder queued directly. Each gives a 64×64 image
   * that differs from the same seed without the reference. Skipped when the server cannot apply a style reference.
   */
  it('style reference runs on the real server (both routes when it has their files)', async (ctx) => {
    const h = await engine.healthAsync();
    if (!h.modes.style.ready) { ctx.skip(); return; }
    const reference = solid(96, 64, [30, 200, 40]);
    for (let y = 0; y < 64; y++) for (let x = 0; x < 48; x++) reference.data.set([220, 40, 160, 255], (y * 96 + x) * 4);
    const plain = await engine.generateAsync(req({ seed: 21 }), model);
    const styled = await engine.generateAsync(req({ seed: 21, styleImage: reference, styleStrength: 1 }), model);
    expect([styled.width, styled.height]).toEqual([64, 64]);
    expect(styled.provenance?.models.length).toBe(3);
    expect(Buffer.from(styled.png).equals(Buffer.from(plain.png))).toBe(false);
    const info = await (await fetch(`${url}/object_info`)).json() as Record<string, { input: { required: Record<string, unknown> } }>;
    const styleModels = comboOptions(info.StyleModelLoader?.input.required.style_model_name);
    const clipVision = comboOptions(info.CLIPVisionLoader?.input.required.clip_name);
    const picked = styled.provenance?.models[1] ?? '';
    if (styleModels.length > 0 && !styleModels.includes(picked)) {
      // The core route too: CLIPVisionEncode → StyleModelApply, queued as built.
      const name = await engine.client.uploadImageAsync('figma-style-real-test.png', encodePng(reference));
      const wf = buildWorkflow(req({ seed: 21, styleImage: reference, styleStrength: 1 }), {
        checkpoint: model, family: 'sd15', style: { kind: 'style-model', styleModel: styleModels[0] as string, clipVision: clipVision[0] as string },
      }, { style: name });
      const id = `style-core-${Date.now()}`;
      await engine.client.queuePromptAsync(wf.prompt, id);
      let entry: Awaited<ReturnType<typeof engine.client.historyAsync>> = null;
      await expect.poll(async () => { entry = await engine.client.historyAsync(id); return entry?.status?.status_str; }, { timeout: 240_000, interval: 1000 }).toBe('success');
      expect(entry!.outputs[wf.outputNode]?.images?.length).toBe(1);
    }
    console.log(`style on the real server: ${styled.provenance?.models.join(' + ')}${styleModels.length > 0 && !styleModels.includes(picked) ? `; core route ${styleModels[0]} + ${clipVision[0]} ran too` : ''}`);
  }, 600_000);

  it('the stand-in answers with the same JSON shapes as the real server', async () => {
    const get = async (base: string, path: string): Promise<unknown> => (await fetch(`${base}${path}`)).json();
    for (const path of ['/prompt', '/queue']) expect(shape(await get(standin.url, path)), path).toEqual(shape(await get(url, path)));
    const realStats = await get(url, '/system_stats') as { system: object; devices: object[] };
    const fakeStats = await get(standin.url, '/system_stats') as { system: object; devices: object[] };
    expect(keys(realStats)).toEqual(keys(fakeStats));
    expect(keys(fakeStats.system).every((k) => keys(realStats.system).includes(k))).toBe(true);
    expect(keys(fakeStats.devices[0])).toEqual(keys(realStats.devices[0]));
    // object_info entries for every node the workflows use: same fields, same input names and combo values' form.
    const realInfo = await get(url, '/object_info') as Record<string, { input: { required: Record<string, unknown> } }>;
    const fakeInfo = await get(standin.url, '/object_info') as Record<string, { input: { required: Record<string, unknown> } }>;
    for (const node of ['CheckpointLoaderSimple', 'CLIPTextEncode', 'EmptyLatentImage', 'KSampler', 'VAEDecode', 'VAEEncode', 'LoadImage', 'LoadImageMask', 'GrowMask', 'SetLatentNoiseMask', 'ImageCompositeMasked', 'PreviewImage', 'ControlNetLoader', 'ControlNetApplyAdvanced', 'FluxGuidance', 'StyleModelApply', 'CLIPVisionEncode']) {
      expect(keys(fakeInfo[node]).every((k) => keys(realInfo[node]).includes(k)), node).toBe(true);
      expect(keys(fakeInfo[node]?.input.required), node).toEqual(keys(realInfo[node]?.input.required));
    }
    // Validation error bodies: same shape for a missing node and a value not in a list.
    const post = async (base: string, body: unknown) => { const r = await fetch(`${base}/prompt`, { method: 'POST', body: JSON.stringify(body) }); return { status: r.status, json: await r.json() }; };
    const bad = buildWorkflow(req(), { checkpoint: 'no-such-model.safetensors', family: 'sd15' }, {});
    const [realBad, fakeBad] = [await post(url, { prompt: bad.prompt }), await post(standin.url, { prompt: bad.prompt })];
    expect(fakeBad.status).toBe(realBad.status);
    expect(shape(fakeBad.json.error)).toEqual(shape(realBad.json.error));
    expect(keys(fakeBad.json.node_errors)).toEqual(keys(realBad.json.node_errors));
    expect(fakeBad.json.node_errors['1'].errors[0].type).toBe(realBad.json.node_errors['1'].errors[0].type);
    const unknown = { ...bad.prompt, 99: { class_type: 'NoSuchNode', inputs: {} } };
    const [realUnknown, fakeUnknown] = [await post(url, { prompt: unknown }), await post(standin.url, { prompt: unknown })];
    expect(fakeUnknown).toEqual(realUnknown);
    // The websocket event sequence of one prompt, by type.
    const good = buildWorkflow(req(), { checkpoint: model, family: 'sd15' }, {});
    const seq = async (base: string): Promise<string[]> => {
      const events: string[] = [];
      const clientId = `seq-${base.length}-${Date.now()}`;
      const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/ws?clientId=${clientId}`);
      await new Promise((r) => ws.once('open', r));
      let id = '';
      const done = new Promise<void>((resolve) => ws.on('message', (d, bin) => {
        if (bin) return;
        const m = JSON.parse(String(d)) as { type: string; data: { prompt_id?: string; node?: string | null } };
        if (m.data.prompt_id !== id) return;
        const last = events.at(-1);
        if (m.type !== last || m.type !== 'progress') events.push(m.type);
        if (m.type === 'executing' && m.data.node === null) resolve();
      }));
      id = `seq-${Math.random().toString(16).slice(2)}`;
      const r = await fetch(`${base}/prompt`, { method: 'POST', body: JSON.stringify({ prompt: good.prompt, client_id: clientId, prompt_id: id }) });
      expect(r.status).toBe(200);
      await done;
      ws.close();
      return events;
    };
    const realSeq = await seq(url);
    const fakeSeq = await seq(standin.url);
    // The stand-in runs every node; the real server caches unchanged ones (no 'executing' for those), so compare the frame.
    expect(fakeSeq[0]).toBe(realSeq[0]);
    expect(fakeSeq.at(-2)).toBe(realSeq.at(-2));
    expect(fakeSeq.at(-1)).toBe(realSeq.at(-1));
    expect(new Set(fakeSeq)).toEqual(new Set(realSeq.filter((t) => t !== 'progress_state')));
  }, 300_000);
});
