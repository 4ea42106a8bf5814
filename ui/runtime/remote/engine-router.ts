/**
 * One EngineClient over two engines: the local one (ORT in the plugin window) and, once the user configured one, a
 * server (ComfyUI). The server's models are listed beside the local ones (ids `comfyui:<file>`); each generation goes
 * to the engine of the model it names, so the engine is chosen per generation. Nothing is sent to a server before
 * `configureServerAsync` names it, and never to a host outside the allowlist.
 */
import { AppError } from '../../../protocol/errors';
import type { EngineClient, ModelEntry, RgbaImage, ServerConfig, ServerHealth } from '../../contracts/engine';
import type { FetchLike } from '../fetch-allowed';
import type { SocketFactory } from './comfy-client';
import { ComfyEngine, serverModelName as comfyModelName } from './comfy-engine';
import { SwarmEngine, swarmModelName } from './swarm-engine';

const serverModelName = (id: string): string | null => comfyModelName(id) ?? swarmModelName(id);

export interface EngineRouterOptions {
  /** Allowlist entries (manifest.json allowedDomains + build-time extras). */
  readonly domains: readonly string[];
  readonly fetch?: FetchLike;
  readonly socket?: SocketFactory;
  readonly decodePreviewAsync?: (bytes: Uint8Array, mime: string) => Promise<RgbaImage | null>;
  readonly probeReachableAsync?: (url: string) => Promise<boolean>;
}

/** Browser JPEG/PNG preview decoding (ComfyUI's latent previews are JPEG by default). */
export async function decodePreviewInBrowserAsync(bytes: Uint8Array, mime: string): Promise<RgbaImage | null> {
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas === 'undefined') return null;
  const bmp = await createImageBitmap(new Blob([bytes as BlobPart], { type: mime }));
  const canvas = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = canvas.getContext('2d');
  if (!ctx) return null;
  ctx.drawImage(bmp, 0, 0);
  const data = ctx.getImageData(0, 0, bmp.width, bmp.height);
  return { width: bmp.width, height: bmp.height, data: data.data };
}

export function createEngineRouter(local: EngineClient, opts: EngineRouterOptions): EngineClient {
  let server: ComfyEngine | SwarmEngine | null = null;
  let serverModels: ModelEntry[] = [];

  const remoteFor = (modelId: string): { engine: ComfyEngine | SwarmEngine; name: string } | null => {
    const name = serverModelName(modelId);
    if (name === null) return null;
    if (!server) throw new AppError('SERVER_UNREACHABLE', 'No server is connected.', { hint: 'Open Models → Server, enter its address and press Connect — or pick "This device".' });
    return { engine: server, name };
  };

  const router: EngineClient = {
    capabilitiesAsync: () => local.capabilitiesAsync(),
    storageAsync: () => local.storageAsync(),
    async listModelsAsync() {
      const mine = await local.listModelsAsync();
      return [...mine, ...serverModels];
    },
    downloadModelAsync(id, onProgress) {
      if (serverModelName(id) !== null) return Promise.reject(new AppError('INVALID_INPUT', 'Server models live on the server; there is nothing to download.'));
      return local.downloadModelAsync(id, onProgress);
    },
    deleteModelAsync(id) {
      if (serverModelName(id) !== null) return Promise.reject(new AppError('INVALID_INPUT', 'Server models live on the server; remove them there.'));
      return local.deleteModelAsync(id);
    },
    generateAsync(request, o) {
      const remote = remoteFor(request.modelId);
      if (remote && request.fullResolution) {
        // The refine pass runs in this device's engine; a server run would silently come back at the model's size.
        return Promise.reject(new AppError('INVALID_INPUT', 'Full resolution runs on this device, not on a server.', { hint: 'Turn “Full resolution” off, or run on this device.' }));
      }
      return remote ? remote.engine.generateAsync(request, remote.name, o) : local.generateAsync(request, o);
    },
    tokenCountAsync(modelId, text) {
      // The server's tokenizer is not here: no count (the UI hides the counter).
      if (serverModelName(modelId) !== null) return Promise.reject(new AppError('MODEL_NOT_READY', 'No token count for server models.'));
      return local.tokenCountAsync(modelId, text);
    },
    async configureServerAsync(config: ServerConfig | null): Promise<ServerHealth | null> {
      server?.close();
      server = null;
      serverModels = [];
      if (!config) return null;
      const Engine = config.kind === 'swarmui' ? SwarmEngine : ComfyEngine;
      const engine = new Engine({
        url: config.url, domains: opts.domains,
        ...(config.token ? { token: config.token } : {}),
        ...(opts.fetch ? { fetch: opts.fetch } : {}),
        ...(opts.socket ? { socket: opts.socket } : {}),
        ...(opts.decodePreviewAsync ? { decodePreviewAsync: opts.decodePreviewAsync } : {}),
        ...(opts.probeReachableAsync ? { probeReachableAsync: opts.probeReachableAsync } : {}),
      });
      const health = await engine.healthAsync();
      server = engine;
      serverModels = engine.listModels();
      return health;
    },
  };
  if (local.loadModelFromFilesAsync) router.loadModelFromFilesAsync = local.loadModelFromFilesAsync.bind(local);
  if (local.addCustomModelAsync) router.addCustomModelAsync = local.addCustomModelAsync.bind(local);
  return router;
}
