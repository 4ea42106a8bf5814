/**
 * The SwarmUI engine: SwarmUI spreads one queue over many ComfyUI backends (many GPUs). We speak its own API
 * (SwarmUI docs/API.md and src/WebAPI/T2IAPI.cs, read, not copied): POST /API/GetNewSession, POST /API/ListModels,
 * then one websocket per generation on /API/GenerateText2ImageWS that takes the parameters up front and answers with
 * `status`, `gen_progress` (with a data-URL preview), `image` (a `View/…` path or a data URL, with its metadata) or
 * `error`. Errors with `error_id: invalid_session_id` get a new session and one retry. The backend that served an
 * image is read from its metadata (`sui_extra_data.debug_backend`, present when the server's AddDebugData is on).
 * Access: SwarmUI's Network.AccessControlAllowOrigin (CORS) and Network.RequiredAuthorization (compared with the
 * whole Authorization header, so set it to "Bearer <token>").
 */
import { AppError } from '../../../protocol/errors';
import type { Mode } from '../../../protocol/messages';
import { decodePng, encodePng, type RgbaImage } from '../../core/image';
import type { GenerateProgress, GenerateRequest, GenerateResult, ModelEntry, ServerHealth, ServerModeReadiness } from '../../contracts/engine';
import { assertUrlAllowed } from '../fetch-allowed';
import { ComfyClient, type SocketLike } from './comfy-client';
import { remoteClient, type RemoteEngineOptions } from './comfy-engine';
import { pngSize } from './comfy-protocol';
import { FAMILY_DEFAULTS, guessFamily, pickControlnet } from './comfy-workflows';

export const SWARM_MODEL_PREFIX = 'swarmui:';

export type SwarmEngineOptions = RemoteEngineOptions;

interface SwarmModel { readonly name: string; readonly architecture?: string | null }

function dataUrl(img: RgbaImage): string {
  const png = encodePng(img);
  let bin = '';
  for (let i = 0; i < png.length; i += 0x8000) bin += String.fromCharCode(...png.subarray(i, i + 0x8000));
  return `data:image/png;base64,${btoa(bin)}`;
}

function fromDataUrl(url: string): { bytes: Uint8Array; mime: string } | null {
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (!m) return null;
  const bin = atob(m[2] as string);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return { bytes, mime: m[1] as string };
}

/** "backend 2 (comfyui_selfstart)" from an image's metadata string, when the server adds its debug data. */
export function backendFromMetadata(metadata: unknown): string | undefined {
  if (typeof metadata !== 'string') return undefined;
  try {
    const m = JSON.parse(metadata) as { sui_extra_data?: { debug_backend?: { backend_id?: unknown; backend_type?: unknown } } };
    const d = m.sui_extra_data?.debug_backend;
    if (!d || d.backend_id === undefined) return undefined;
    return `backend ${String(d.backend_id)}${d.backend_type ? ` (${String(d.backend_type)})` : ''}`;
  } catch {
    return undefined;
  }
}

export class SwarmEngine {
  readonly client: ComfyClient;
  private readonly opts: SwarmEngineOptions;
  private session: string | null = null;
  private models: SwarmModel[] = [];
  private controlnets: string[] = [];
  private health: ServerHealth | null = null;

  constructor(opts: SwarmEngineOptions) {
    this.opts = opts;
    this.client = remoteClient(opts);
  }

  /** POST /API/<route> with the session; a SwarmUI `error` becomes SERVER_ERROR, `invalid_session_id` one retry. */
  private async apiAsync<T>(route: string, body: Record<string, unknown>, retry = true): Promise<T> {
    if (!this.session) await this.newSessionAsync();
    // SwarmUI answers a stale session with 401 {error_id: invalid_session_id}: get a new one and retry once.
    const res = await this.client.requestAsync(`/API/${route}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ session_id: this.session, ...body }),
    }, 'SwarmUI', [401]);
    const json = (await res.json().catch(() => ({}))) as T & { error?: string; error_id?: string };
    if (res.status === 401 && json.error_id !== 'invalid_session_id') {
      throw new AppError('SERVER_UNREACHABLE', `SwarmUI at ${this.client.origin} refused the access token (HTTP 401).`, { hint: 'SwarmUI compares the whole Authorization header with its RequiredAuthorization setting: set that to "Bearer <token>".' });
    }
    if (json.error_id === 'invalid_session_id' && retry) {
      this.session = null;
      return this.apiAsync(route, body, false);
    }
    if (json.error) throw new AppError('SERVER_ERROR', `SwarmUI refused ${route}: ${json.error}`);
    return json;
  }

  private async newSessionAsync(): Promise<{ version?: string }> {
    const res = await this.client.postJsonAsync('/API/GetNewSession', {});
    const json = (await res.json()) as { session_id?: string; version?: string; error?: string };
    if (json.error || !json.session_id) {
      throw new AppError('SERVER_UNREACHABLE', `SwarmUI at ${this.client.origin} gave no session: ${json.error ?? 'no session_id in its answer'}.`, {
        hint: 'Check the access token (SwarmUI compares the whole Authorization header, e.g. "Bearer <token>").',
      });
    }
    this.session = json.session_id;
    return json;
  }

  async healthAsync(): Promise<ServerHealth> {
    this.session = null;
    const s = await this.newSessionAsync();
    const list = await this.apiAsync<{ files?: SwarmModel[] }>('ListModels', { path: '', depth: 4, subtype: 'Stable-Diffusion' });
    this.models = (list.files ?? []).filter((f) => typeof f.name === 'string');
    const cn = await this.apiAsync<{ files?: SwarmModel[] }>('ListModels', { path: '', depth: 4, subtype: 'ControlNet' }).catch(() => ({ files: [] as SwarmModel[] }));
    this.controlnets = (cn.files ?? []).map((f) => f.name);
    const hasModel = this.models.length > 0;
    const ready = (missing: string[]): ServerModeReadiness => ({ ready: missing.length === 0, missing });
    const noModel = hasModel ? [] : ['a model in SwarmUI\'s Models/Stable-Diffusion folder'];
    this.health = {
      kind: 'swarmui',
      url: this.client.base,
      summary: `SwarmUI ${s.version ?? ''}`.trim(),
      checkpoints: this.models.map((m) => m.name),
      controlnets: this.controlnets,
      modes: {
        generate: ready(noModel), edit: ready(noModel), inpaint: ready(noModel),
        wireframe: ready([...noModel, ...(this.controlnets.length ? [] : ['a ControlNet model in SwarmUI\'s Models/controlnet folder'])]),
        style: ready(['a direct ComfyUI connection (style references through SwarmUI are not built yet)']),
        boost: ready(['Boost runs on this device (the plugin\'s own upscaler), not on a server']),
      },
    };
    return this.health;
  }

  listModels(): ModelEntry[] {
    const health = this.health;
    if (!health) return [];
    return this.models.map((m): ModelEntry => {
      const family = /flux/i.test(m.architecture ?? '') ? 'flux' : /xl/i.test(m.architecture ?? '') ? 'sdxl' : guessFamily(m.name);
      const d = FAMILY_DEFAULTS[family];
      return {
        id: `${SWARM_MODEL_PREFIX}${m.name}`,
        name: m.name.replace(/\.(safetensors|ckpt|gguf)$/i, ''),
        description: `On ${health.summary} (${this.client.origin}); SwarmUI picks the GPU.`,
        licence: { name: 'As on the server', commercial_use: true, url: this.client.base },
        dtype: 'float16',
        capabilities: { txt2img: true, img2img: true, inpaint: 'blend', controlnet: health.modes.wireframe.ready ? 'lineart' : 'none' },
        sizes: { default_width: d.size, default_height: d.size, max_side: d.maxSide, multiple: 8 },
        defaults: { steps: d.steps, guidance_scale: family === 'flux' ? 1 : d.guidance, strength: 0.6, control_scale: 0.9 },
        totalBytes: 0,
        status: 'ready',
        engine: 'swarmui',
        server: { modelName: m.name, family },
      };
    });
  }

  /** The T2I parameters for one image (SwarmUI's param ids: lowercase names without spaces). */
  params(request: GenerateRequest, modelName: string): Record<string, unknown> {
    const mode: Mode = request.mode;
    const p: Record<string, unknown> = {
      images: 1, prompt: request.prompt, negativeprompt: request.negativePrompt, model: modelName, width: request.width, height: request.height,
      steps: request.steps, cfgscale: request.guidanceScale, seed: request.seed % 2147483647,
    };
    if ((mode === 'edit' || mode === 'inpaint') && request.image) {
      p.initimage = dataUrl(request.image);
      p.initimagecreativity = request.strength ?? 0.6;
    }
    if (mode === 'inpaint' && request.mask) p.maskimage = dataUrl(request.mask);
    if (mode === 'wireframe' && request.control) {
      const cn = pickControlnet(this.controlnets, request.controlType);
      if (!cn) throw new AppError('MODEL_NOT_READY', 'SwarmUI has no ControlNet model for Wireframe → mockup.', { hint: 'Add one to SwarmUI\'s Models/controlnet folder.' });
      p.controlnetimageinput = dataUrl(request.control);
      p.controlnetmodel = cn;
      p.controlnetstrength = request.controlScale ?? 1;
    }
    return p;
  }

  async generateAsync(
    request: GenerateRequest, modelName: string,
    opts: { onProgress?: (p: GenerateProgress) => void; signal?: AbortSignal } = {},
  ): Promise<GenerateResult> {
    if (opts.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
    if (request.styleImage) throw new AppError('MODEL_NOT_READY', 'Style references through SwarmUI are not built yet: connect to ComfyUI directly to use a style reference.', { hint: 'Connect to ComfyUI directly for style references.' });
    if (!this.health) throw new AppError('SERVER_UNREACHABLE', 'The server has not been checked yet.', { hint: 'Open Models → Server and press Connect.' });
    if (!this.session) await this.newSessionAsync();
    const params = this.params(request, modelName);
    const out = await this.runSocketAsync(params, request, opts).catch(async (err: unknown) => {
      if (err instanceof AppError && err.message.includes('invalid_session_id')) {
        await this.newSessionAsync();
        return this.runSocketAsync(params, request, opts);
      }
      if (err instanceof AppError && err.code === 'SERVER_UNREACHABLE' && err.message.startsWith('Could not open')) {
        // No websocket (a browser cannot add the Authorization header to one): the plain HTTP route, without previews.
        opts.onProgress?.({ stage: 'denoise', step: 0, total: request.steps });
        const res = await this.apiAsync<{ images?: string[] }>('GenerateText2Image', params);
        const first = res.images?.[0];
        if (!first) throw new AppError('SERVER_ERROR', 'SwarmUI finished without an image.');
        return { image: first, metadata: undefined };
      }
      throw err;
    });
    const ref = out.image;
    let png: Uint8Array;
    const inline = fromDataUrl(ref);
    if (inline) png = inline.bytes;
    else {
      const res = await this.client.requestAsync(`/${ref.replace(/^\/+/, '')}`);
      png = new Uint8Array(await res.arrayBuffer());
    }
    const size = pngSize(png);
    if (!size) throw new AppError('SERVER_ERROR', `SwarmUI's result ${ref.slice(0, 80)} is not a PNG image.`, { hint: 'Set SwarmUI\'s image format to PNG (User settings → Image format).' });
    const backend = backendFromMetadata(out.metadata);
    return {
      png, width: size.width, height: size.height, seed: request.seed, droppedTokens: 0,
      provenance: { engine: 'swarmui', models: [modelName, ...(params.controlnetmodel ? [String(params.controlnetmodel)] : [])], ...(backend ? { backend } : {}) },
    };
  }

  private runSocketAsync(
    params: Record<string, unknown>, request: GenerateRequest,
    opts: { onProgress?: (p: GenerateProgress) => void; signal?: AbortSignal },
  ): Promise<{ image: string; metadata: unknown }> {
    const factory = this.opts.socket ?? ((u: string) => new WebSocket(u) as unknown as SocketLike);
    const u = new URL(this.client.base);
    const wsUrl = `${u.protocol === 'https:' ? 'wss:' : 'ws:'}//${u.host}${u.pathname.replace(/\/+$/, '')}/API/GenerateText2ImageWS`;
    assertUrlAllowed(wsUrl.replace(/^ws/, 'http'), { domains: this.opts.domains });
    return new Promise((resolve, reject) => {
      let ws: SocketLike;
      let finished = false;
      let opened = false;
      const finish = (err: unknown, value?: { image: string; metadata: unknown }): void => {
        if (finished) return;
        finished = true;
        opts.signal?.removeEventListener('abort', onAbort);
        try { ws.close(); } catch { /* closed */ }
        if (err) reject(err); else resolve(value as { image: string; metadata: unknown });
      };
      // Cancel: closing the socket makes SwarmUI interrupt this request's generations (its claim is cancelled).
      const onAbort = (): void => finish(new AppError('CANCELLED', 'Cancelled.'));
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        ws = factory(wsUrl);
      } catch (err) {
        reject(err);
        return;
      }
      ws.addEventListener('open', () => {
        opened = true;
        (ws as unknown as { send(d: string): void }).send(JSON.stringify({ session_id: this.session, ...params }));
        opts.onProgress?.({ stage: 'queued', step: 0, total: request.steps });
      });
      ws.addEventListener('error', () => {
        if (!opened) finish(new AppError('SERVER_UNREACHABLE', `Could not open SwarmUI's generation socket at ${this.client.origin}.`, { hint: 'Check that SwarmUI runs and its Network.AccessControlAllowOrigin allows the plugin ("*").' }));
      });
      ws.addEventListener('close', () => finish(new AppError('SERVER_UNREACHABLE', `SwarmUI closed the connection before the image was ready.`, { hint: 'Check the SwarmUI console, then press Generate again. Nothing was inserted.' })));
      ws.addEventListener('message', (ev) => {
        if (typeof ev.data !== 'string') return;
        let msg: Record<string, unknown>;
        try { msg = JSON.parse(ev.data) as Record<string, unknown>; } catch { return; }
        if (typeof msg.error === 'string') {
          finish(new AppError('SERVER_ERROR', `SwarmUI: ${msg.error}${msg.error_id ? ` (${String(msg.error_id)})` : ''}`));
          return;
        }
        const status = msg.status as { waiting_gens?: number; live_gens?: number } | undefined;
        if (status && typeof status.waiting_gens === 'number' && !msg.gen_progress) {
          opts.onProgress?.({ stage: 'queued', step: 0, total: request.steps, queuePosition: Math.max(0, (status.waiting_gens ?? 0) - 1) });
        }
        const gp = msg.gen_progress as { current_percent?: number; overall_percent?: number; preview?: string } | undefined;
        if (gp) {
          const step = Math.round((gp.current_percent ?? 0) * request.steps);
          opts.onProgress?.({ stage: 'denoise', step, total: request.steps });
          const prev = typeof gp.preview === 'string' ? fromDataUrl(gp.preview) : null;
          if (prev) {
            const decode = prev.mime === 'image/png' ? Promise.resolve(decodePng(prev.bytes)) : (this.opts.decodePreviewAsync?.(prev.bytes, prev.mime) ?? Promise.resolve(null));
            void decode.then((img) => { if (img && !finished) opts.onProgress?.({ stage: 'denoise', step, total: request.steps, preview: img }); }, () => undefined);
          }
        }
        const img = msg.image;
        if (typeof img === 'string') finish(null, { image: img, metadata: msg.metadata });
      });
    });
  }

  close(): void {
    this.session = null;
  }
}

export function swarmModelName(id: string): string | null {
  return id.startsWith(SWARM_MODEL_PREFIX) ? id.slice(SWARM_MODEL_PREFIX.length) : null;
}
