/** The SwarmUI engine against the SwarmUI stand-in: session, models, generation over its websocket, backends. */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { AppError } from '../../protocol/errors';
import { decodePng, type RgbaImage } from '../../ui/core/image';
import type { GenerateProgress, GenerateRequest } from '../../ui/contracts/engine';
import type { SocketLike } from '../../ui/runtime/remote/comfy-client';
import { createEngineRouter } from '../../ui/runtime/remote/engine-router';
import { SwarmEngine } from '../../ui/runtime/remote/swarm-engine';
import { startSwarmStandinAsync, type RunningSwarm, type SwarmStandinOptions } from './swarm-standin';

const MODEL = 'OfficialStableDiffusion/sd_xl_base_1.0.safetensors';
const servers: RunningSwarm[] = [];
afterEach(async () => { for (const s of servers.splice(0)) await s.closeAsync(); });
const socket = (url: string): SocketLike => new WebSocket(url) as unknown as SocketLike;

async function setupAsync(opts: SwarmStandinOptions = {}, token?: string): Promise<{ s: RunningSwarm; engine: SwarmEngine }> {
  const s = await startSwarmStandinAsync({ controlnets: ['diffusers_xl_canny_mid.safetensors'], ...opts });
  servers.push(s);
  return { s, engine: new SwarmEngine({ url: s.url, domains: [s.url], socket, probeReachableAsync: async () => false, ...(token ? { token } : {}) }) };
}

const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
  modelId: `swarmui:${MODEL}`, mode: 'generate', prompt: 'a red cabin', negativePrompt: '', width: 32, height: 32, steps: 4, guidanceScale: 6, seed: 5, ...over,
});
function solid(w: number, h: number, rgb: [number, number, number]): RgbaImage {
  const data = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < w * h; i++) data.set([...rgb, 255], i * 4);
  return { width: w, height: h, data };
}

describe('SwarmUI engine against the stand-in', () => {
  it('session + models; Generate over GenerateText2ImageWS with previews; the backend of each image is named', async () => {
    const { s, engine } = await setupAsync({ backends: 2, addDebugData: true });
    const h = await engine.healthAsync();
    expect(h.summary).toBe('SwarmUI 0.9.7.0.GIT-standin');
    expect(h.checkpoints).toEqual([MODEL]);
    expect(engine.listModels()[0]).toMatchObject({ id: `swarmui:${MODEL}`, engine: 'swarmui', server: { family: 'sdxl' } });
    const progress: GenerateProgress[] = [];
    const r1 = await engine.generateAsync(req(), MODEL, { onProgress: (p) => progress.push(p) });
    const r2 = await engine.generateAsync(req({ seed: 6 }), MODEL);
    expect([r1.width, r1.height]).toEqual([32, 32]);
    expect(r1.provenance).toEqual({ engine: 'swarmui', models: [MODEL], backend: 'backend 0 (comfyui_selfstart)' });
    expect(r2.provenance?.backend).toBe('backend 1 (comfyui_selfstart)');
    expect(progress.filter((p) => p.stage === 'denoise' && !p.preview).map((p) => p.step)).toEqual([1, 2, 3, 4]);
    expect(progress.some((p) => p.preview?.width === 8)).toBe(true);
    expect(s.received[0]).toMatchObject({ images: 1, prompt: 'a red cabin', model: MODEL, width: 32, height: 32, steps: 4, cfgscale: 6, seed: 5 });
    expect(Buffer.from(r1.png).equals(Buffer.from(r2.png))).toBe(false);
  });

  it('Edit / Inpaint / Wireframe send SwarmUI\'s own parameters, and the image follows them', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    const src = solid(32, 32, [10, 200, 30]);
    const keep = decodePng((await engine.generateAsync(req({ mode: 'edit', image: src, strength: 0 }), MODEL)).png);
    expect(Buffer.from(keep.data).equals(Buffer.from(src.data))).toBe(true);
    expect(s.received.at(-1)).toMatchObject({ initimagecreativity: 0 });
    const mask = solid(32, 32, [0, 0, 0]);
    for (let i = 0; i < 16 * 32; i++) mask.data.set([255, 255, 255, 255], i * 4);
    const inp = decodePng((await engine.generateAsync(req({ mode: 'inpaint', image: src, mask, strength: 1 }), MODEL)).png);
    expect([...inp.data.slice(31 * 32 * 4, 31 * 32 * 4 + 3)]).toEqual([10, 200, 30]); // bottom half: outside the mask
    expect([...inp.data.slice(0, 3)]).not.toEqual([10, 200, 30]);
    await engine.generateAsync(req({ mode: 'wireframe', control: solid(32, 32, [255, 255, 255]), controlScale: 0.5, controlType: 'canny' }), MODEL);
    expect(s.received.at(-1)).toMatchObject({ controlnetmodel: 'diffusers_xl_canny_mid.safetensors', controlnetstrength: 0.5 });
    expect(String(s.received.at(-1)?.controlnetimageinput)).toMatch(/^data:image\/png;base64,/);
  });

  it('a stale session is renewed once (the server restarted)', async () => {
    const { s, engine } = await setupAsync();
    await engine.healthAsync();
    s.sessions.clear();
    const r = await engine.generateAsync(req(), MODEL);
    expect(r.width).toBe(32);
    expect(s.requests.filter((q) => q.path === '/API/GetNewSession').length).toBe(2);
  });

  it('RequiredAuthorization compares the whole header; without a websocket the HTTP route still generates; CORS per AccessControlAllowOrigin', async () => {
    const { s, engine } = await setupAsync({ requiredAuthorization: 'Bearer team-pass', authBypassIps: [], accessControlAllowOrigin: '*' }, 'team-pass');
    await engine.healthAsync();
    // The stand-in refuses the websocket (no header on it, as in a browser): the plain HTTP route answers.
    const r = await engine.generateAsync(req(), MODEL);
    expect(r.width).toBe(32);
    expect(s.requests.some((q) => q.path === '/API/GenerateText2Image' && q.auth === 'Bearer team-pass')).toBe(true);
    const bad = new SwarmEngine({ url: s.url, domains: [s.url], socket, token: 'nope' });
    const e = await bad.healthAsync().then(() => null, (err: unknown) => err as AppError);
    expect(e?.message).toMatch(/refused the access token \(HTTP 401\)/);
    const pre = await fetch(`${s.url}/API/GetNewSession`, { method: 'OPTIONS', headers: { Origin: 'null' } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('*');
  });

  it('an unknown model comes back as SwarmUI\'s own error text; cancel closes the socket', async () => {
    const { engine } = await setupAsync({ stepMs: 50, steps: 40 });
    await engine.healthAsync();
    const e = await engine.generateAsync(req(), 'gone.safetensors').then(() => null, (err: unknown) => err as AppError);
    expect(e?.message).toBe("SwarmUI: Invalid model name 'gone.safetensors'.");
    const ctl = new AbortController();
    const p = engine.generateAsync(req(), MODEL, { signal: ctl.signal, onProgress: (x) => { if (x.step === 2) ctl.abort(); } });
    expect(((await p.catch((err: unknown) => err)) as AppError).code).toBe('CANCELLED');
  });

  it('the router lists SwarmUI models beside local ones and sends their generations to SwarmUI', async () => {
    const { s } = await setupAsync();
    const local = { listModelsAsync: async () => [], generateAsync: async () => { throw new Error('local must not run'); } } as unknown as Parameters<typeof createEngineRouter>[0];
    const router = createEngineRouter(local, { domains: [s.url], socket });
    const h = await router.configureServerAsync?.({ kind: 'swarmui', url: s.url });
    expect(h?.kind).toBe('swarmui');
    expect((await router.listModelsAsync()).map((m) => m.id)).toEqual([`swarmui:${MODEL}`]);
    const r = await router.generateAsync(req(), {});
    expect(r.provenance?.engine).toBe('swarmui');
  });
});
