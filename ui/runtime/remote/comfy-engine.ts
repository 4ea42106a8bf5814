/**
 * The ComfyUI engine: health check (/system_stats + /object_info → what each mode lacks, in plain words), the
 * server's checkpoints as model entries, and generation: upload inputs (/upload/image), queue the workflow built in
 * code (/prompt), follow it on the client's websocket (queue position while waiting, progress, binary previews,
 * executing/executed/error), fetch the result (/history + /view). Cancel = /interrupt (running) or queue delete
 * (waiting). A dropped socket is reopened with the same client id and the same prompt id is followed (its end is
 * also read from /history), or the run fails cleanly.
 */
import { AppError } from '../../../protocol/errors';
import type { Mode } from '../../../protocol/messages';
import { decodePng, encodePng, type RgbaImage } from '../../core/image';
import type { GenerateProgress, GenerateRequest, GenerateResult, ModelEntry, ServerHealth } from '../../contracts/engine';
import type { FetchLike } from '../fetch-allowed';
import { createSha256 } from '../sha256';
import { ComfyClient, randomId, type SocketFactory, type SocketLike } from './comfy-client';
import { comboOptions, pngSize, queuePosition, type ApiPrompt, type BinaryFrame, type ComfyEvent, type HistoryEntry } from './comfy-protocol';
import {
  FAMILY_DEFAULTS, buildWorkflow, guessFamily, pickControlnet, pickStyleRoute, readiness, type ServerInventory, type UploadedInputs, type WorkflowModels,
} from './comfy-workflows';

/** How an app reaches a server engine (ComfyUI or SwarmUI): its address, an optional token and the allowlist. */
export interface RemoteEngineOptions {
  readonly url: string;
  readonly token?: string;
  readonly domains: readonly string[];
  readonly fetch?: FetchLike;
  readonly socket?: SocketFactory;
  readonly probeReachableAsync?: (url: string) => Promise<boolean>;
  /** Decodes a JPEG preview frame (browser: createImageBitmap); absent = JPEG previews are skipped. PNG is decoded here. */
  readonly decodePreviewAsync?: (bytes: Uint8Array, mime: string) => Promise<RgbaImage | null>;
}

/** The HTTP/websocket client both server engines speak through, set up from the engine's options. */
export function remoteClient(opts: RemoteEngineOptions): ComfyClient {
  return new ComfyClient({
    url: opts.url, domains: opts.domains,
    ...(opts.token ? { token: opts.token } : {}),
    ...(opts.fetch ? { fetch: opts.fetch } : {}),
    ...(opts.socket ? { socket: opts.socket } : {}),
    ...(opts.probeReachableAsync ? { probeReachableAsync: opts.probeReachableAsync } : {}),
  });
}

export interface ComfyEngineOptions extends RemoteEngineOptions {
  /** How often to read /history and /queue while the socket is down or the prompt waits (ms). */
  readonly pollMs?: number;
  /** Reconnect attempts after the socket drops mid-run. */
  readonly reconnectAttempts?: number;
}

export const COMFY_MODEL_PREFIX = 'comfyui:';

interface Watcher {
  onEvent(ev: ComfyEvent): void;
  onBinary(frame: BinaryFrame): void;
  onSocketState(open: boolean): void;
}

type ObjectInfo = Record<string, { input?: { required?: Record<string, unknown>; optional?: Record<string, unknown> } }>;

function inventoryOf(info: ObjectInfo): ServerInventory {
  const opt = (node: string, input: string): string[] => comboOptions(info[node]?.input?.required?.[input]);
  return {
    nodes: new Set(Object.keys(info)),
    checkpoints: opt('CheckpointLoaderSimple', 'ckpt_name'),
    controlnets: opt('ControlNetLoader', 'control_net_name'),
    styleModels: opt('StyleModelLoader', 'style_model_name'),
    clipVision: opt('CLIPVisionLoader', 'clip_name'),
    ipadapters: opt('IPAdapterModelLoader', 'ipadapter_file'),
  };
}

const STAGE_BY_CLASS: Record<string, GenerateProgress['stage']> = {
  CheckpointLoaderSimple: 'text', CLIPTextEncode: 'text', FluxGuidance: 'text', VAEEncode: 'encode', LoadImage: 'encode',
  LoadImageMask: 'encode', SetLatentNoiseMask: 'encode', ControlNetApplyAdvanced: 'encode', KSampler: 'denoise', VAEDecode: 'decode',
  ImageCompositeMasked: 'decode', PreviewImage: 'decode', CLIPVisionLoader: 'encode', CLIPVisionEncode: 'encode', StyleModelLoader: 'encode',
  StyleModelApply: 'encode', IPAdapterModelLoader: 'encode', IPAdapterAdvanced: 'encode',
};

export class ComfyEngine {
  readonly client: ComfyClient;
  private readonly opts: ComfyEngineOptions;
  private inventory: ServerInventory | null = null;
  private health: ServerHealth | null = null;
  private socket: SocketLike | null = null;
  private socketOpening: Promise<SocketLike | null> | null = null;
  private readonly watchers = new Set<Watcher>();
  private readonly hashes = new Map<string, string | null>();
  private closed = false;
  /** When the last websocket attempt failed: later runs poll without waiting for another attempt for a while. */
  private socketFailedAt = -Infinity;

  constructor(opts: ComfyEngineOptions) {
    this.opts = opts;
    this.client = remoteClient(opts);
  }

  /** /system_stats + /object_info → the server's models and, per mode, what it lacks. */
  async healthAsync(): Promise<ServerHealth> {
    const stats = await this.client.getJsonAsync<{ system?: { comfyui_version?: string }; devices?: { name?: string; type?: string }[] }>('/system_stats');
    if (!stats || typeof stats !== 'object' || !stats.system) {
      throw new AppError('SERVER_ERROR', `${this.client.origin} answered /system_stats without ComfyUI's "system" section — is this a ComfyUI server?`, {
        hint: 'For SwarmUI, pick "SwarmUI" as the server kind.',
      });
    }
    const info = await this.client.getJsonAsync<ObjectInfo>('/object_info');
    const inv = inventoryOf(info);
    this.inventory = inv;
    const queue = await this.client.getJsonAsync<{ exec_info?: { queue_remaining?: number } }>('/prompt').catch(() => null);
    const device = stats.devices?.[0];
    this.health = {
      kind: 'comfyui',
      url: this.client.base,
      summary: `ComfyUI ${stats.system.comfyui_version ?? '(version unknown)'}${device?.name ? ` on ${device.name}` : ''}`,
      ...(queue?.exec_info?.queue_remaining !== undefined ? { queueRemaining: queue.exec_info.queue_remaining } : {}),
      checkpoints: inv.checkpoints,
      controlnets: inv.controlnets,
      modes: readiness(inv),
    };
    return this.health;
  }

  /** The server's checkpoints as model entries (status ready: they live on the server). */
  listModels(): ModelEntry[] {
    const inv = this.inventory;
    const health = this.health;
    if (!inv || !health) return [];
    return inv.checkpoints.map((name): ModelEntry => {
      const family = guessFamily(name);
      const d = FAMILY_DEFAULTS[family];
      const control = health.modes.wireframe.ready ? (pickControlnet(inv.controlnets, undefined) ?? '') : '';
      const controlType = (['lineart', 'scribble', 'canny', 'mlsd'] as const).find((t) => control.toLowerCase().includes(t)) ?? 'lineart';
      return {
        id: `${COMFY_MODEL_PREFIX}${name}`,
        name: name.replace(/\.(safetensors|ckpt|pt|pth|sft|gguf)$/i, ''),
        description: `On ${health.summary} (${this.client.origin}).`,
        licence: { name: 'As on the server', commercial_use: true, url: this.client.base },
        dtype: 'float16',
        capabilities: {
          txt2img: health.modes.generate.ready,
          img2img: health.modes.edit.ready,
          inpaint: health.modes.inpaint.ready ? 'blend' : 'none',
          controlnet: control ? controlType : 'none',
        },
        sizes: { default_width: d.size, default_height: d.size, max_side: d.maxSide, multiple: 8 },
        defaults: { steps: d.steps, guidance_scale: d.guidance, strength: 0.6, control_scale: 0.9 },
        totalBytes: 0,
        status: 'ready',
        engine: 'comfyui',
        server: { modelName: name, family },
      };
    });
  }

  /** Opens (or reuses) the client's one websocket; null when it cannot be opened (the run then polls). */
  private ensureSocketAsync(): Promise<SocketLike | null> {
    if (this.socket && this.socket.readyState === 1) return Promise.resolve(this.socket);
    if (this.socketOpening) return this.socketOpening;
    if (Date.now() - this.socketFailedAt < 30_000) return Promise.resolve(null);
    this.socketOpening = this.client.openSocketAsync(
      (ev) => { for (const w of this.watchers) w.onEvent(ev); },
      (frame) => { for (const w of this.watchers) w.onBinary(frame); },
      () => { this.socket = null; for (const w of this.watchers) w.onSocketState(false); },
    ).then((ws) => {
      this.socket = ws;
      if (this.closed) ws.close();
      for (const w of this.watchers) w.onSocketState(true);
      return ws;
    }, () => { this.socketFailedAt = Date.now(); return null; }).finally(() => { this.socketOpening = null; });
    return this.socketOpening;
  }

  private async uploadAsync(img: RgbaImage, kind: string, signal: AbortSignal | undefined): Promise<string> {
    const png = encodePng(img);
    const h = createSha256();
    h.update(png);
    const hash = h.digestHex().slice(0, 16);
    return this.client.uploadImageAsync(`figma-${kind}-${hash}.png`, png, signal);
  }

  private async modelHashAsync(name: string, folder: string): Promise<string | null> {
    if (this.hashes.has(name)) return this.hashes.get(name) ?? null;
    let hash: string | null = null;
    try {
      const meta = await this.client.getJsonAsync<Record<string, unknown>>(`/view_metadata/${folder}?filename=${encodeURIComponent(name)}`);
      const h = meta['modelspec.hash_sha256'];
      if (typeof h === 'string') hash = h.replace(/^0x/, '').toLowerCase();
    } catch { /* no metadata: no hash */ }
    this.hashes.set(name, hash);
    return hash;
  }

  private workflowModels(request: GenerateRequest, modelName: string): WorkflowModels {
    const inv = this.inventory;
    if (!inv || !this.health) throw new AppError('SERVER_UNREACHABLE', 'The server has not been checked yet.', { hint: 'Open Models → Server and press Connect.' });
    const mode: Mode = request.mode;
    const ready = this.health.modes[mode];
    if (!ready.ready) {
      throw new AppError('MODEL_NOT_READY', `The server cannot do ${mode === 'wireframe' ? 'Wireframe → mockup' : mode}: it lacks ${ready.missing.join(', ')}.`, {
        hint: 'Install what is missing on the server (ComfyUI models/ folders or custom nodes), then press Check again in Models → Server.',
      });
    }
    if (!inv.checkpoints.includes(modelName)) {
      throw new AppError('MODEL_NOT_READY', `The server has no model named "${modelName}" any more.`, { hint: 'Press Check in Models → Server to refresh its list.' });
    }
    let style: WorkflowModels['style'];
    if (request.styleImage) {
      const picked = pickStyleRoute(inv, guessFamily(modelName));
      if ('missing' in picked) {
        throw new AppError('MODEL_NOT_READY', `The server cannot apply a style reference with ${modelName}: it lacks ${picked.missing}.`, {
          hint: 'Install what is missing on the server, then press Check again in Models → Server — or turn Style reference off.',
        });
      }
      style = picked.route;
    }
    const controlnet = mode === 'wireframe' ? pickControlnet(inv.controlnets, request.controlType) : undefined;
    return { checkpoint: modelName, family: guessFamily(modelName), ...(controlnet ? { controlnet } : {}), ...(style ? { style } : {}) };
  }

  async generateAsync(
    request: GenerateRequest, modelName: string,
    opts: { onProgress?: (p: GenerateProgress) => void; signal?: AbortSignal } = {},
  ): Promise<GenerateResult> {
    const { signal, onProgress } = opts;
    const cancelled = (): AppError => new AppError('CANCELLED', 'Cancelled.');
    if (signal?.aborted) throw cancelled();
    const models = this.workflowModels(request, modelName);
    // The socket first, so no event of this prompt is missed; uploads meanwhile.
    const socketP = this.ensureSocketAsync();
    const uploads: { -readonly [K in keyof UploadedInputs]?: string } = {};
    if (request.image && (request.mode === 'edit' || request.mode === 'inpaint')) uploads.image = await this.uploadAsync(request.image, 'source', signal);
    if (request.mask && request.mode === 'inpaint') uploads.mask = await this.uploadAsync(request.mask, 'mask', signal);
    if (request.control && request.mode === 'wireframe') uploads.control = await this.uploadAsync(request.control, 'outlines', signal);
    if (request.styleImage) uploads.style = await this.uploadAsync(request.styleImage, 'style', signal);
    const built = buildWorkflow(request, models, uploads);
    await socketP;
    if (signal?.aborted) throw cancelled();
    return this.runPromptAsync(built.prompt, built.outputNode, request, built.models, { ...(onProgress ? { onProgress } : {}), ...(signal ? { signal } : {}) });
  }

  private runPromptAsync(
    prompt: ApiPrompt, outputNode: string, request: GenerateRequest, usedModels: readonly string[],
    opts: { onProgress?: (p: GenerateProgress) => void; signal?: AbortSignal },
  ): Promise<GenerateResult> {
    const pollMs = this.opts.pollMs ?? 1000;
    const classOf = (node: string | null | undefined): string => (node ? prompt[node]?.class_type ?? '' : '');
    return new Promise<GenerateResult>((resolve, reject) => {
      let promptId = randomId();
      let accepted = false;
      let started = false;
      let finished = false;
      let stage: GenerateProgress['stage'] = 'text';
      let pollTimer: ReturnType<typeof setTimeout> | undefined;
      let reconnecting = false;
      const early: ComfyEvent[] = [];
      let lastStep = 0;
      const report = (p: GenerateProgress): void => {
        if (finished) return;
        if (p.stage === 'denoise' && !p.preview) lastStep = p.step;
        opts.onProgress?.(p);
      };

      const done = (err: unknown, result?: GenerateResult): void => {
        if (finished) return;
        finished = true;
        if (pollTimer !== undefined) clearTimeout(pollTimer);
        this.watchers.delete(watcher);
        opts.signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(result as GenerateResult);
      };

      const fetchResultAsync = async (entry: HistoryEntry | null): Promise<void> => {
        try {
          const h = entry ?? await this.client.historyAsync(promptId);
          if (!h) throw new AppError('SERVER_ERROR', 'The server finished the prompt but has no record of it in /history.');
          if (h.status && h.status.status_str === 'error') {
            const err = h.status.messages.find((m) => m[0] === 'execution_error')?.[1] as { node_type?: string; exception_message?: string } | undefined;
            const interrupted = h.status.messages.some((m) => m[0] === 'execution_interrupted');
            if (interrupted) throw new AppError('SERVER_ERROR', 'The run was interrupted on the server (someone cancelled it there).', { hint: 'Press Generate to run it again.' });
            throw serverFailure(err?.node_type, err?.exception_message);
          }
          const images = h.outputs[outputNode]?.images ?? [];
          const ref = images[0];
          if (!ref) throw new AppError('SERVER_ERROR', `The server finished, but its result node (#${outputNode}) produced no image.`);
          const png = await this.client.viewAsync(ref);
          const size = pngSize(png);
          if (!size) throw new AppError('SERVER_ERROR', `The server's result ${ref.filename} is not a PNG image.`);
          const modelHashes: Record<string, string> = {};
          for (const [i, name] of usedModels.entries()) {
            const hash = await this.modelHashAsync(name, i === 0 ? 'checkpoints' : 'controlnet');
            if (hash) modelHashes[name] = hash;
          }
          done(null, {
            png, width: size.width, height: size.height, seed: request.seed, droppedTokens: 0,
            provenance: { engine: 'comfyui', models: usedModels, ...(Object.keys(modelHashes).length ? { modelHashes } : {}) },
          });
        } catch (err) {
          done(err);
        }
      };

      const handle = (ev: ComfyEvent): void => {
        const data = (ev.data ?? {}) as { prompt_id?: string; node?: string | null; value?: number; max?: number; node_type?: string; exception_message?: string };
        if (ev.type === 'status') { if (!started) void updateQueuePositionAsync(); return; }
        if (data.prompt_id !== promptId) return;
        switch (ev.type) {
          case 'execution_start': started = true; report({ stage: 'text', step: 0, total: request.steps }); break;
          case 'executing':
            started = true;
            if (data.node === null || data.node === undefined) { void fetchResultAsync(null); break; }
            stage = STAGE_BY_CLASS[classOf(data.node)] ?? stage;
            report({ stage, step: 0, total: request.steps });
            break;
          case 'progress':
            if (classOf(data.node) === 'KSampler' || stage === 'denoise') { stage = 'denoise'; report({ stage, step: data.value ?? 0, total: data.max ?? request.steps }); }
            break;
          case 'execution_error':
            done(serverFailure(data.node_type, data.exception_message));
            break;
          case 'execution_interrupted':
            done(opts.signal?.aborted ? new AppError('CANCELLED', 'Cancelled.') : new AppError('SERVER_ERROR', 'The run was interrupted on the server (someone cancelled it there).', { hint: 'Press Generate to run it again.' }));
            break;
          default: break;
        }
      };

      const watcher: Watcher = {
        onEvent: (ev) => { if (!accepted) early.push(ev); else handle(ev); },
        onBinary: (frame) => {
          if (!started || finished || frame.kind !== 'preview') return;
          void this.decodePreviewAsync(frame).then((img) => {
            if (img && stage === 'denoise') report({ stage, step: lastStep, total: request.steps, preview: img });
          });
        },
        onSocketState: (open) => { if (!open && !finished) void reconnectAsync(); },
      };

      const updateQueuePositionAsync = async (): Promise<void> => {
        if (!accepted || started || finished) return;
        try {
          const q = await this.client.queueAsync();
          const pos = queuePosition(q, promptId);
          if (pos === null) {
            // Neither waiting nor running: it already ran (events missed) or was deleted on the server.
            const h = await this.client.historyAsync(promptId).catch(() => null);
            if (h) await fetchResultAsync(h);
            else if (!started && !finished) done(new AppError('SERVER_ERROR', 'The prompt left the server\'s queue without running (someone removed it there).', { hint: 'Press Generate to queue it again.' }));
            return;
          }
          if (pos === 0 && q.queue_running.some((r) => r[1] === promptId)) { started = true; return; }
          report({ stage: 'queued', step: 0, total: request.steps, queuePosition: pos });
        } catch { /* the next status event or poll tries again */ }
      };

      const poll = (): void => {
        if (finished) return;
        pollTimer = setTimeout(() => {
          void (async () => {
            if (finished) return;
            if (!started) await updateQueuePositionAsync();
            else if (!this.socket) {
              const h = await this.client.historyAsync(promptId).catch(() => null);
              if (h && h.status) await fetchResultAsync(h);
            }
            poll();
          })();
        }, pollMs);
      };

      const reconnectAsync = async (): Promise<void> => {
        if (reconnecting || finished) return;
        reconnecting = true;
        const attempts = this.opts.reconnectAttempts ?? 3;
        for (let i = 0; i < attempts && !finished; i++) {
          await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** i)));
          if (finished) break;
          const ws = await this.ensureSocketAsync();
          if (ws) {
            reconnecting = false;
            // Events may have been missed while the socket was down: ask /history whether it already ended.
            const h = await this.client.historyAsync(promptId).catch(() => null);
            if (h && h.status) await fetchResultAsync(h);
            return;
          }
        }
        reconnecting = false;
        if (finished) return;
        const h = await this.client.historyAsync(promptId).catch(() => undefined);
        if (h && h.status) { await fetchResultAsync(h); return; }
        if (h === undefined) {
          done(new AppError('SERVER_UNREACHABLE', `The connection to ${this.client.origin} dropped during the run and did not come back.`, {
            hint: 'Check that the server is still running, then press Generate again. Nothing was inserted.',
          }));
        }
        // The server answers HTTP but not the socket: keep following the prompt by polling /history.
      };

      const onAbort = (): void => {
        if (finished) return;
        const wasStarted = started;
        done(new AppError('CANCELLED', 'Cancelled.'));
        if (accepted) void this.client.cancelAsync(promptId, wasStarted);
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.watchers.add(watcher);
      report({ stage: 'queued', step: 0, total: request.steps });

      void (async () => {
        try {
          const res = await this.client.queuePromptAsync(prompt, promptId);
          promptId = res.prompt_id || promptId;
          accepted = true;
          if (finished) { void this.client.cancelAsync(promptId, false); return; }
          for (const ev of early.splice(0)) handle(ev);
          if (!finished && !started) await updateQueuePositionAsync();
          poll();
        } catch (err) {
          done(err);
        }
      })();
    });
  }

  private async decodePreviewAsync(frame: Extract<BinaryFrame, { kind: 'preview' }>): Promise<RgbaImage | null> {
    try {
      if (frame.mime === 'image/png') return decodePng(frame.bytes);
      return (await this.opts.decodePreviewAsync?.(frame.bytes, frame.mime)) ?? null;
    } catch {
      return null;
    }
  }

  close(): void {
    this.closed = true;
    this.socket?.close();
    this.socket = null;
  }
}

function serverFailure(nodeType: string | undefined, message: string | undefined): AppError {
  const text = (message ?? 'unknown error').trim().split('\n')[0]?.slice(0, 400) ?? '';
  return new AppError('SERVER_ERROR', `The server failed${nodeType ? ` in ${nodeType}` : ''}: ${text}`, {
    hint: /out of memory|OOM/i.test(text) ? 'The server ran out of memory: try a smaller size.' : 'The ComfyUI console has the full error. Nothing was inserted.',
  });
}

/** ModelEntry id → the server's model name (null for local models). */
export function serverModelName(id: string): string | null {
  return id.startsWith(COMFY_MODEL_PREFIX) ? id.slice(COMFY_MODEL_PREFIX.length) : null;
}
