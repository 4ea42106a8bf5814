/**
 * The engine: catalogue, downloads, store, sessions and pipelines behind the app's EngineClient interface. It runs
 * inside the engine worker (./worker/engine-worker.ts) or, for tests, in the calling thread ("in-thread mode").
 */
import { AppError, toAppError } from '../../protocol/errors';
import type { ComponentSpec, ModelManifest } from '../core/manifest';
import type { ModelRole, ModelSession } from '../core/session';
import { createClipTokenizer, type ClipTokenizer } from '../core/tokenizer/clip-tokenizer';
import { encodePngAsync } from '../core/image';
import { controlNetAsync, diffusersReproduction, imageToImageAsync, inpaintAsync, textToImageAsync } from '../core/pipelines';
import type { PipelineContext, PipelineResult } from '../core/pipelines';
import type {
  DownloadProgress, EngineCapabilities, EngineClient, GenerateProgress, GenerateRequest, GenerateResult, ModelEntry, ModelStatus, StorageInfo,
} from '../contracts/engine';
import { addCustomModelAsync, builtinCatalog, loadCatalogIndexAsync, resolveUrl, storePathFor, type CatalogEntry } from './catalog';
import { checkMagic, downloadFilesAsync, formatBytes, pinPathFor, readPinAsync, type DownloadOptions, type DownloadTarget, type EstimateFn } from './downloader';
import type { NetworkPolicy } from './fetch-allowed';
import { createOrtSessionAsync, deviceLostError, sessionHintsFor, type DeviceWatch, type OrtLike } from './ort-session';
import { chooseProvider, type AdapterInfo, type Provider, type ProviderChoice } from './provider-choice';
import { createSessionManager, type MemoryPolicy, type SessionEvent, type SessionManager } from './session-manager';
import { createSha256Async, sha256HexOfBytesAsync } from './sha256';
import { createFolderStore, matchPickedFiles, pickedFromFileList, type PickedFile } from './store/local-folder';
import type { ModelStore } from './store/model-store';
import { boostThumbnail, createUpscalerRunner, type UpscalerModel } from './upscaler';
import { refineTiledAsync } from '../core/upscale/refine';
import { cropRect, refineTileCount, refineTiling } from '../core/upscale/full-resolution';
import { cropImage, resizeImage } from '../core/upscale/resample';
import type { RgbaImage } from '../core/image';

export interface EngineOptions {
  readonly ort: OrtLike;
  readonly store: ModelStore;
  readonly network: NetworkPolicy;
  readonly adapter: AdapterInfo;
  readonly adapterName?: string;
  readonly policy?: MemoryPolicy;
  /** Defaults to the built-in catalogue. */
  readonly catalog?: readonly CatalogEntry[];
  /** An extra catalogue index URL (dev builds, the harness). */
  readonly devCatalogUrl?: string;
  readonly estimate?: EstimateFn;
  readonly deviceWatch?: DeviceWatch;
  /** Run on a software WebGPU adapter instead of preferring wasm (tests on SwiftShader). */
  readonly allowFallbackAdapter?: boolean;
  /** Overrides the provider choice (tests comparing WebGPU and wasm); the shader-f16 gate still applies. */
  readonly forceProvider?: Provider;
  readonly crossOriginIsolated?: boolean;
  readonly wasmThreads?: number;
  /** Called after a device loss, before sessions are made again; returns the new adapter state. */
  readonly recoverDeviceAsync?: () => Promise<AdapterInfo>;
  readonly downloadTuning?: Pick<DownloadOptions, 'sleep' | 'stallTimeoutMs' | 'headersTimeoutMs' | 'retryDelayMs' | 'maxAttempts' | 'now' | 'progressIntervalMs'>;
  /** Skip the all-zero output check (proof models with legitimately zero outputs). */
  readonly allowZeroOutput?: boolean;
  readonly onSessionEvent?: (e: SessionEvent) => void;
  /** Built-in upscalers for Boost (bundled with the app; none → Boost explains it is missing). */
  readonly upscalers?: readonly UpscalerModel[];
  /** Files picked from a folder in an earlier engine worker (store path → file), handed over after a GPU loss. */
  readonly picked?: Iterable<readonly [string, Blob]>;
}

export interface Engine extends EngineClient {
  /** Adds a model by manifest URL, pasted JSON text or object; returns its list entry. */
  addCustomModelAsync(input: string | object): Promise<ModelEntry>;
  loadModelFromPickedAsync(id: string, picked: readonly PickedFile[], onProgress: (p: DownloadProgress) => void): Promise<void>;
  pauseDownloadAsync(id: string): Promise<void>;
  cancelDownloadAsync(id: string): Promise<void>;
  /** Releases every session. */
  closeAsync(): Promise<void>;
  /** The provider the next generation of `modelId` will use, and why. */
  providerFor(modelId: string): ProviderChoice;
  /** The files picked from a folder (store path → file), to hand over to a new engine. */
  pickedFiles(): [string, Blob][];
}

type TokenizerKey = 'vocab' | 'merges';

interface FileRef {
  readonly target: DownloadTarget;
  readonly spec?: { role: ModelRole; path: string; externalDataFor?: string };
  /** A file of an optional component (downloaded when a task first needs it, not with the install). */
  readonly optional?: boolean;
  /** Set on the tokenizer's files. */
  readonly tokenizer?: { key: TokenizerKey; path: string };
}

/** A file entry (weights or tokenizer) as a verified download target: content-addressed by sha256 when known. */
function targetOf(entry: CatalogEntry, f: { path: string; url: string; bytes?: number; approx_bytes?: number; sha256?: string }, kind: DownloadTarget['kind']): DownloadTarget {
  const url = resolveUrl(entry, f.url);
  return {
    url, storePath: storePathFor(url, f.sha256), bytes: f.bytes ?? f.approx_bytes ?? 0, ...(f.sha256 ? { sha256: f.sha256 } : {}),
    // No published size: the first complete download's size (and sha256) is pinned by the downloader.
    ...(f.bytes === undefined ? { sizeUnknown: true } : {}),
    kind, label: `${entry.manifest.name}: ${f.path}`,
  };
}

/** The capabilities an optional component serves, for messages and the model card. */
const OPTIONAL_USES: Partial<Record<ModelRole, string>> = { vae_encoder: 'Edit and Inpaint', preview_decoder: 'live previews', controlnet: 'Wireframe' };

function tokenizerRefs(entry: CatalogEntry): FileRef[] {
  const tok = entry.manifest.raw.tokenizer;
  return (['vocab', 'merges'] as const).map((key) => ({
    target: targetOf(entry, tok[key], key === 'vocab' ? 'json' : 'text'),
    tokenizer: { key, path: tok[key].path },
  }));
}

/** The files of a model: the install (default), or with `withOptional` also its optional components' files. */
function filesOf(entry: CatalogEntry, withOptional = false): FileRef[] {
  const m = entry.manifest;
  const refs: FileRef[] = [];
  for (const [role, spec] of Object.entries(m.components) as [ModelRole, ComponentSpec | undefined][]) {
    if (!spec || (spec.optional && !withOptional)) continue;
    for (const f of spec.files) {
      refs.push({
        target: targetOf(entry, f, f.path === spec.model ? 'onnx' : 'data'),
        spec: { role, path: f.path, ...(f.external_data_for ? { externalDataFor: f.external_data_for } : {}) },
        ...(spec.optional ? { optional: true } : {}),
      });
    }
  }
  refs.push(...tokenizerRefs(entry));
  // Shared files (same URL or same sha256 in two places) are fetched once.
  const seen = new Set<string>();
  return refs.filter((r) => (seen.has(r.target.storePath) ? false : (seen.add(r.target.storePath), true)));
}

/**
 * What "Download" fetches for a model: its required files and its tokenizer files, each once — the size a card
 * announces, so it agrees with the download's own progress total (the manifest's totalBytes counts components only).
 */
function downloadBytes(entry: CatalogEntry): number {
  return filesOf(entry).reduce((sum, r) => sum + r.target.bytes, 0);
}

export async function createEngineAsync(opts: EngineOptions): Promise<Engine> {
  const { store, network } = opts;
  const policy = opts.policy ?? 'fast';
  const entries = new Map<string, CatalogEntry>();
  for (const e of opts.catalog ?? builtinCatalog()) entries.set(e.manifest.id, e);
  const catalogErrors: string[] = [];
  if (opts.devCatalogUrl) {
    try {
      for (const e of await loadCatalogIndexAsync(opts.devCatalogUrl, network, 'dev')) entries.set(e.manifest.id, e);
    } catch (err) {
      catalogErrors.push(toAppError(err).message);
    }
  }
  // Custom models added earlier (persistent stores only).
  for (const f of await store.listAsync('catalog/custom/')) {
    try {
      const blob = await store.getAsync(f.path);
      if (blob) {
        const saved = JSON.parse(await blob.text()) as { base_url?: string; manifest?: unknown };
        const e = await addCustomModelAsync(saved.manifest ?? {}, network);
        entries.set(e.manifest.id, saved.base_url ? { ...e, baseUrl: saved.base_url } : e);
      }
    } catch (err) {
      catalogErrors.push(toAppError(err).message);
    }
  }

  let adapter = opts.adapter;
  let deviceLost = false;
  interface RunningDownload { promise: Promise<void>; progress?: DownloadProgress; readonly controller: AbortController; stop?: 'pause' | 'cancel' }
  const downloads = new Map<string, RunningDownload>();
  const failures = new Map<string, AppError>();
  /** Files the user picked from a folder, by store path (read before the store). */
  const picked = new Map<string, Blob>(opts.picked ?? []);
  const tokenizers = new Map<string, ClipTokenizer>();
  let current: { id: string; provider: Provider; manager: SessionManager } | null = null;

  const entryOf = (id: string): CatalogEntry => {
    const e = entries.get(id);
    if (!e) throw new AppError('INVALID_INPUT', `Unknown model "${id}". Known: ${[...entries.keys()].join(', ')}.`);
    return e;
  };
  const readAsync = async (path: string): Promise<Blob | null> => picked.get(path) ?? (await store.getAsync(path));

  const providerFor = (id: string): ProviderChoice => {
    const m = entryOf(id).manifest;
    const auto = chooseProvider(adapter, m.dtype, { allowFallbackAdapter: opts.allowFallbackAdapter === true });
    if (!opts.forceProvider || opts.forceProvider === auto.provider) return auto;
    if (opts.forceProvider === 'webgpu' && (!adapter.available || (m.dtype === 'float16' && !adapter.shaderF16))) return auto;
    return { provider: opts.forceProvider, reason: `Forced to ${opts.forceProvider} by the engine options.` };
  };

  /** A file counts as stored only with its exact size (a wrong size is repaired, see repairAsync). */
  const isStored = (t: DownloadTarget, present: ReadonlyMap<string, number>): boolean =>
    present.has(t.storePath) && (t.sizeUnknown === true || present.get(t.storePath) === t.bytes);

  const statusOf = async (entry: CatalogEntry, present: ReadonlyMap<string, number>): Promise<ModelStatus> => {
    const id = entry.manifest.id;
    if (downloads.has(id)) return 'downloading';
    const refs = filesOf(entry);
    if (refs.every((r) => picked.has(r.target.storePath) || isStored(r.target, present))) return 'ready';
    if (failures.has(id)) return 'failed';
    // Stopped part-way (Pause, Cancel, a closed plugin): the `.part`s wait for a resume.
    return refs.some((r) => (present.get(`${r.target.storePath}.part`) ?? 0) > 0) ? 'paused' : 'not-downloaded';
  };

  /** Bytes already stored for a model (complete files plus `.part`s), for a paused card. */
  const storedProgress = (entry: CatalogEntry, present: ReadonlyMap<string, number>): DownloadProgress => {
    let bytes = 0;
    for (const r of filesOf(entry)) bytes += isStored(r.target, present) ? r.target.bytes : Math.min(r.target.bytes, present.get(`${r.target.storePath}.part`) ?? 0);
    return { bytes, total: downloadBytes(entry), rate: 0 };
  };

  /** Marks a model as needing repair after a damaged stored file was removed (every damaged file is named). */
  const damaged = new Map<string, string[]>();
  const needsRepair = (entry: CatalogEntry, path: string, why: string): AppError => {
    const id = entry.manifest.id;
    const list = [...(failures.get(id)?.code === 'INTEGRITY_MISMATCH' ? damaged.get(id) ?? [] : []), `${path} (${why})`];
    damaged.set(id, list);
    const e = new AppError('INTEGRITY_MISMATCH', `${entry.manifest.name} needs repair: ${list.join(', ')} ${list.length > 1 ? 'were' : 'was'} damaged and removed.`, {
      hint: `Press Download to repair it; only the damaged file${list.length > 1 ? 's are' : ' is'} fetched again.`,
    });
    failures.set(id, e);
    tokenizers.delete(id);
    return e;
  };

  /** The sha256 a stored file must have: the manifest's, else the one pinned at its first download. */
  const expectedShaAsync = async (t: DownloadTarget): Promise<string | null> => t.sha256 ?? (await readPinAsync(store, t.url))?.sha256 ?? null;

  const hashBlobAsync = async (blob: Blob): Promise<string> => {
    // Small files in one native digest; larger ones stream (not held in memory twice just for a check).
    if (blob.size <= 64 * 2 ** 20) return sha256HexOfBytesAsync(new Uint8Array(await blob.arrayBuffer()));
    const h = await createSha256Async();
    const reader = (blob.stream() as ReadableStream<Uint8Array>).getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      h.update(value);
    }
    return h.digestHex();
  };

  /**
   * Start-up check of what is stored: a file whose size is wrong (or, for files up to REHASH_BYTES, whose sha256 is
   * wrong) is removed and its model shown as needing repair; a `.part` longer than its file is removed. Larger files
   * are hashed when first loaded (readVerifiedAsync), since reading gigabytes at every start would be slow.
   */
  const REHASH_BYTES = 32 * 2 ** 20;
  const verified = new Set<string>();
  const repairAsync = async (): Promise<void> => {
    if (store.kind === 'folder') return;
    const present = await presentMapAsync();
    for (const entry of entries.values()) {
      for (const r of filesOf(entry, true)) {
        const t = r.target;
        const part = present.get(`${t.storePath}.part`);
        if (part !== undefined && !t.sizeUnknown && part > t.bytes) await store.deleteAsync(`${t.storePath}.part`);
        const size = present.get(t.storePath);
        if (size === undefined) continue;
        if (!t.sizeUnknown && size !== t.bytes) {
          await store.deleteAsync(t.storePath);
          present.delete(t.storePath);
          needsRepair(entry, r.spec?.path ?? r.tokenizer?.path ?? t.label, `${size} bytes stored, ${t.bytes} expected`);
          continue;
        }
        if (size <= REHASH_BYTES && !verified.has(t.storePath)) {
          const want = await expectedShaAsync(t);
          const blob = await store.getAsync(t.storePath);
          if (want && blob) {
            const got = await hashBlobAsync(blob);
            if (got !== want) {
              await store.deleteAsync(t.storePath);
              present.delete(t.storePath);
              needsRepair(entry, r.spec?.path ?? r.tokenizer?.path ?? t.label, `sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…`);
              continue;
            }
            verified.add(t.storePath);
          }
        }
      }
    }
  };

  /** Reads a stored file for use, hashing it the first time in this session; a damaged file is removed (repair). */
  const readVerifiedAsync = async (entry: CatalogEntry, r: FileRef): Promise<Blob | null> => {
    const t = r.target;
    const pickedBlob = picked.get(t.storePath);
    if (pickedBlob) return pickedBlob;
    const blob = await store.getAsync(t.storePath);
    if (!blob || verified.has(t.storePath) || store.kind === 'folder') return blob;
    const want = await expectedShaAsync(t);
    if (want) {
      const got = await hashBlobAsync(blob);
      if (got !== want) {
        await store.deleteAsync(t.storePath);
        throw needsRepair(entry, r.spec?.path ?? r.tokenizer?.path ?? t.label, `sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…`);
      }
    }
    verified.add(t.storePath);
    return blob;
  };

  /**
   * Optional components that could not be downloaded (e.g. a VAE encoder the repo does not have: HTTP 404), per
   * model: the capabilities they serve are turned off, with the reason, and everything else keeps working.
   */
  const unavailable = new Map<string, Map<ModelRole, AppError>>();

  /** The model's capabilities less those whose optional component is unavailable. */
  const capabilitiesOf = (m: ModelManifest): ModelManifest['raw']['capabilities'] => {
    const gone = unavailable.get(m.id);
    if (!gone?.has('vae_encoder')) return m.raw.capabilities;
    return { ...m.raw.capabilities, img2img: false, inpaint: 'none' };
  };

  const summaryOf = (entry: CatalogEntry): Omit<ModelEntry, 'status'> => {
    const m = entry.manifest;
    return {
      id: m.id, name: m.name, description: m.raw.description, licence: m.raw.licence, dtype: m.dtype,
      capabilities: capabilitiesOf(m), sizes: m.raw.sizes, defaults: m.raw.defaults, totalBytes: downloadBytes(entry), maxTokens: m.maxLength,
    };
  };

  const recordedHashesAsync = async (entry: CatalogEntry): Promise<NonNullable<ModelEntry['recordedHashes']>> => {
    const out: { path: string; sha256: string; source: 'host' | 'first-download' }[] = [];
    for (const r of filesOf(entry)) {
      if (r.target.sha256) continue;
      const pin = await readPinAsync(store, r.target.url);
      if (pin) out.push({ path: r.spec?.path ?? r.tokenizer?.path ?? r.target.label, sha256: pin.sha256, source: pin.by });
    }
    return out;
  };

  /**
   * Makes sure an optional component a task needs is stored, downloading it now if not (the VAE encoder on the first
   * Edit or Inpaint). A component that cannot be had makes the task fail with a message naming what is off and why;
   * a 404 (the file does not exist) turns the capability off for good (until the model is deleted).
   */
  const ensureComponentAsync = async (entry: CatalogEntry, role: ModelRole, signal?: AbortSignal): Promise<boolean> => {
    const m = entry.manifest;
    const spec = m.components[role];
    if (!spec) return false;
    if (!spec.optional) return true;
    const gone = unavailable.get(m.id)?.get(role);
    if (gone) throw gone;
    const refs = filesOf(entry, true).filter((r) => r.spec?.role === role);
    const present = await presentMapAsync();
    if (refs.every((r) => picked.has(r.target.storePath) || isStored(r.target, present))) return true;
    try {
      await downloadFilesAsync(refs.map((r) => r.target), { store, network, ...opts.downloadTuning, ...(signal ? { signal } : {}) });
      return true;
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'CANCELLED') throw e;
      const uses = OPTIONAL_USES[role] ?? role;
      const error = new AppError(e.code, `${m.name} cannot do ${uses}: its ${role.replace('_', ' ')} could not be downloaded (${e.message})`, {
        hint: /HTTP 404|HTTP 410/.test(e.message)
          ? `${uses} is turned off for this model; everything else still works. Pick another model for ${uses}.`
          : 'Check the connection and try again.',
        cause: err,
      });
      if (/HTTP 404|HTTP 410/.test(e.message)) {
        const map = unavailable.get(m.id) ?? new Map<ModelRole, AppError>();
        map.set(role, error);
        unavailable.set(m.id, map);
      }
      throw error;
    }
  };

  const entryFor = async (entry: CatalogEntry, present: ReadonlyMap<string, number>): Promise<ModelEntry> => {
    const status = await statusOf(entry, present);
    const recorded = store.kind === 'folder' ? [] : await recordedHashesAsync(entry);
    const d = downloads.get(entry.manifest.id);
    const err = failures.get(entry.manifest.id);
    return {
      ...summaryOf(entry), status,
      ...(d?.progress ? { progress: d.progress } : status === 'paused' ? { progress: storedProgress(entry, present) } : {}),
      ...(status === 'failed' && err ? { error: err.toData() } : {}),
      ...(recorded.length > 0 ? { recordedHashes: recorded } : {}),
    };
  };

  const presentMapAsync = async (): Promise<Map<string, number>> => new Map((await store.listAsync('blobs/')).map((e) => [e.path, e.bytes]));

  const tokenizerForAsync = async (entry: CatalogEntry): Promise<ClipTokenizer> => {
    const id = entry.manifest.id;
    const hit = tokenizers.get(id);
    if (hit) return hit;
    const [vocabRef, mergesRef] = tokenizerRefs(entry);
    const vocabBlob = await readVerifiedAsync(entry, vocabRef!);
    const mergesBlob = await readVerifiedAsync(entry, mergesRef!);
    if (!vocabBlob || !mergesBlob) throw new AppError('MODEL_NOT_READY', `${entry.manifest.name} is not downloaded yet (its tokenizer is missing).`, { hint: 'Download the model first.' });
    let vocab: Record<string, number>;
    try {
      vocab = JSON.parse(await vocabBlob.text()) as Record<string, number>;
    } catch {
      if (picked.has(vocabRef!.target.storePath)) throw new AppError('INVALID_INPUT', `${entry.manifest.name}: the picked tokenizer vocabulary is not valid JSON.`);
      await store.deleteAsync(vocabRef!.target.storePath);
      throw needsRepair(entry, vocabRef!.tokenizer!.path, 'it is not valid JSON');
    }
    const t = createClipTokenizer(vocab, await mergesBlob.text());
    tokenizers.set(id, t);
    return t;
  };

  const createSessionFor = (entry: CatalogEntry, provider: Provider) => async (role: ModelRole, ctx: { policy: MemoryPolicy }): Promise<ModelSession> => {
    const m = entry.manifest;
    const spec = m.components[role];
    if (!spec) throw new AppError('MODEL_MISMATCH', `${m.name} has no ${role} component, which this task needs.`);
    const refs = filesOf(entry, true).filter((r) => r.spec?.role === role);
    const readBytesAsync = async (r: FileRef): Promise<Uint8Array> => {
      const fromPick = picked.get(r.target.storePath);
      const blob = fromPick ?? (await store.getAsync(r.target.storePath));
      if (!blob) throw new AppError('MODEL_NOT_READY', `${m.name} is not fully downloaded (${r.spec?.path} is missing).`, { hint: 'Download the model again.' });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      // The first load in a session hashes the bytes it hands to ORT (they are in memory anyway): a file damaged on
      // disk since its download is removed and the model shown as needing repair, instead of "protobuf parsing failed".
      if (!fromPick && store.kind !== 'folder' && !verified.has(r.target.storePath)) {
        const want = await expectedShaAsync(r.target);
        if (want) {
          const got = await sha256HexOfBytesAsync(bytes);
          if (got !== want) {
            await store.deleteAsync(r.target.storePath);
            throw needsRepair(entry, r.spec?.path ?? r.target.label, `sha256 ${got.slice(0, 12)}…, expected ${want.slice(0, 12)}…`);
          }
        }
        verified.add(r.target.storePath);
      }
      return bytes;
    };
    const modelRef = refs.find((r) => r.spec?.path === spec.model)!;
    const model = await readBytesAsync(modelRef);
    const externalData: { path: string; data: Uint8Array }[] = [];
    for (const r of refs) if (r.spec?.externalDataFor) externalData.push({ path: r.spec.externalDataFor, data: await readBytesAsync(r) });
    // Outputs another model consumes stay on the GPU in "fast" mode (in "low-memory" the producer is released first).
    const gpuOutputs = ctx.policy === 'fast' && (role === 'text_encoder' || role === 'controlnet') ? spec.outputs.map((o) => o.name) : [];
    const session = await createOrtSessionAsync({
      ort: opts.ort, role, modelName: m.name, spec, model, externalData, provider, gpuOutputs, ...sessionHintsFor(m, role),
      ...(opts.deviceWatch ? { deviceWatch: opts.deviceWatch } : {}),
      ...(opts.allowZeroOutput ? { allowZeroOutput: true } : {}),
    });
    // What it took to load this export (graph optimisation 'basic', float64 inputs fed as float32), for diagnosis.
    if (session.notes.length > 0) console.warn(`${m.name} ${role}: ${session.notes.join('; ')}`);
    return session;
  };

  const managerForAsync = async (entry: CatalogEntry): Promise<SessionManager> => {
    if (deviceLost) {
      deviceLost = false;
      adapter = opts.recoverDeviceAsync
        ? await opts.recoverDeviceAsync().catch((err: unknown) => ({ available: false, shaderF16: false, isFallback: false, unavailableReason: `the GPU could not be restarted: ${toAppError(err).message}` }))
        : { available: false, shaderF16: false, isFallback: false, unavailableReason: 'the GPU device was lost; reopen the plugin to use the GPU again' };
    }
    const provider = providerFor(entry.manifest.id).provider;
    if (current && current.id === entry.manifest.id && current.provider === provider) return current.manager;
    if (current) await current.manager.releaseAllAsync().catch(() => undefined);
    const manager = createSessionManager({
      policy,
      createSessionAsync: createSessionFor(entry, provider),
      onDeviceLost: () => { deviceLost = true; current = null; },
      ...(opts.onSessionEvent ? { onEvent: opts.onSessionEvent } : {}),
    });
    current = { id: entry.manifest.id, provider, manager };
    return manager;
  };

  const upscalers = createUpscalerRunner(opts.ort, opts.upscalers ?? []);

  /** Boost's refine pass: the diffusion model's img2img on each tile (seed + tile index), blended by the core. */
  const refineAsync = async (image: RgbaImage, modelId: string, request: GenerateRequest,
    onProgress: ((p: GenerateProgress) => void) | undefined, signal: AbortSignal | undefined, stage: 'denoise' | 'refine' = 'denoise'): Promise<{ image: RgbaImage; droppedTokens: number }> => {
    const entry = entryOf(modelId);
    if (!entry.manifest.raw.capabilities.img2img) throw new AppError('INVALID_INPUT', `${entry.manifest.name} cannot refine (it has no image-to-image).`, { hint: 'Pick another model for the refine pass, or turn refining off.' });
    const present = await presentMapAsync();
    if ((await statusOf(entry, present)) !== 'ready') {
      throw new AppError('MODEL_NOT_READY', `${entry.manifest.name} is not downloaded yet, so the upscaled image cannot be refined.`, { hint: 'Download it from the Models tab, or turn refining off.' });
    }
    const tokenizer = await tokenizerForAsync(entry);
    const manager = await managerForAsync(entry);
    const { tile, overlap, multiple, exact } = refineTiling(entry.manifest.raw.sizes);
    let dropped = 0;
    // Full resolution: the preview is the resized image with the refined rows laid over it as they finish (the
    // tiler's result is empty until a row of tiles is done), shown from the start of the pass.
    const backdrop = stage === 'refine' ? boostThumbnail(image, 256) : null;
    const previewOf = (partial: RgbaImage): RgbaImage => {
      const t = boostThumbnail(partial, 256);
      if (!backdrop || backdrop.width !== t.width || backdrop.height !== t.height) return t;
      const data = new Uint8ClampedArray(t.data);
      for (let i = 3; i < data.length; i += 4) if (data[i] === 0) data.set(backdrop.data.subarray(i - 3, i + 1), i - 3);
      return { width: t.width, height: t.height, data };
    };
    try {
      if (backdrop && onProgress) onProgress({ step: 0, total: refineTileCount(image, { tile, overlap, multiple, exact }), stage, preview: backdrop });
      const { image: refined } = await refineTiledAsync(image, async (t, i) => {
        const ctx: PipelineContext = { manifest: entry.manifest, sessions: manager, tokenizer, ...(signal ? { signal } : {}) };
        const r = await imageToImageAsync(ctx, {
          prompt: request.prompt, negativePrompt: request.negativePrompt, width: t.width, height: t.height,
          steps: request.steps, guidanceScale: request.guidanceScale, seed: (request.seed + i) % 2 ** 32,
          image: t, strength: request.strength ?? 0.3,
        });
        dropped = r.droppedTokens;
        return r.image;
      }, {
        tile, overlap, multiple, exact,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress: (p: { done: number; total: number; image: RgbaImage }) => onProgress({ step: p.done, total: p.total, stage, preview: previewOf(p.image) }) } : {}),
      });
      return { image: refined, droppedTokens: dropped };
    } finally {
      if (policy === 'low-memory') await manager.releaseAllAsync().catch(() => undefined);
    }
  };

  const requireImage = (name: string, img: GenerateRequest['image']) => {
    if (!img) throw new AppError('INVALID_INPUT', `This mode needs ${name}, but none was given.`);
    return img;
  };

  const engine: Engine = {
    providerFor,
    pickedFiles: () => [...picked],
    async capabilitiesAsync(): Promise<EngineCapabilities> {
      const fp32 = chooseProvider(adapter, 'float32', { allowFallbackAdapter: opts.allowFallbackAdapter === true });
      const fp16 = chooseProvider(adapter, 'float16', { allowFallbackAdapter: opts.allowFallbackAdapter === true });
      const reason = fp16.provider === fp32.provider ? fp32.reason : `${fp32.reason} Half-precision models: ${fp16.reason}`;
      return {
        webgpu: adapter.available,
        ...(opts.adapterName ? { adapterName: opts.adapterName } : {}),
        shaderF16: adapter.shaderF16,
        provider: fp32.provider,
        reason,
        crossOriginIsolated: opts.crossOriginIsolated === true,
        persistentStorage: store.persistent,
        ...(store.reason ? { storageReason: store.reason } : {}),
        wasmThreads: opts.wasmThreads ?? 1,
      };
    },
    async listModelsAsync() {
      const present = await presentMapAsync();
      return Promise.all([...entries.values()].map((e) => entryFor(e, present)));
    },
    downloadModelAsync(id, onProgress) {
      const entry = entryOf(id);
      const running = downloads.get(id);
      if (running) return running.promise;
      const state: RunningDownload = { promise: Promise.resolve(), controller: new AbortController() };
      state.promise = (async () => {
        failures.delete(id);
        try {
          await downloadFilesAsync(filesOf(entry).map((r) => r.target), {
            store, network, ...opts.downloadTuning,
            ...(opts.estimate ? { estimate: opts.estimate } : {}),
            signal: state.controller.signal,
            onProgress: (p) => { state.progress = p; onProgress(p); },
          });
          // Just verified by the downloader: the first session need not hash them again.
          for (const r of filesOf(entry)) verified.add(r.target.storePath);
        } catch (err) {
          const e = toAppError(err);
          if (e.code === 'CANCELLED' && state.stop) {
            const kept = state.progress ? `${formatBytes(state.progress.bytes)} of ${formatBytes(state.progress.total)}` : 'what was downloaded';
            throw new AppError('CANCELLED', state.stop === 'pause' ? `Download of ${entry.manifest.name} paused; ${kept} kept.` : `Download of ${entry.manifest.name} cancelled; ${kept} kept.`, {
              hint: 'Resume continues from there; Delete removes it.',
            });
          }
          failures.set(id, e);
          throw e;
        } finally {
          downloads.delete(id);
        }
      })();
      downloads.set(id, state);
      return state.promise;
    },
    async pauseDownloadAsync(id) {
      const d = downloads.get(id);
      if (!d) return;
      d.stop ??= 'pause';
      d.controller.abort();
      await d.promise.catch(() => undefined); // resolves once the network has stopped and the `.part` is closed
    },
    async cancelDownloadAsync(id) {
      const d = downloads.get(id);
      if (!d) return;
      d.stop ??= 'cancel';
      d.controller.abort();
      await d.promise.catch(() => undefined);
    },
    async deleteModelAsync(id) {
      const entry = entryOf(id);
      await engine.cancelDownloadAsync(id);
      if (current?.id === id) { await current.manager.releaseAllAsync().catch(() => undefined); current = null; }
      tokenizers.delete(id);
      const present = await presentMapAsync();
      const keep = new Set<string>();
      for (const other of entries.values()) {
        if (other.manifest.id === id) continue;
        if ((await statusOf(other, present)) === 'ready') for (const r of filesOf(other, true)) keep.add(r.target.storePath);
      }
      unavailable.delete(id);
      for (const r of filesOf(entry, true)) {
        picked.delete(r.target.storePath);
        if (keep.has(r.target.storePath)) continue;
        if (store.kind === 'folder') continue;
        await store.deleteAsync(r.target.storePath);
        await store.deleteAsync(`${r.target.storePath}.part`);
        if (!r.target.sha256) await store.deleteAsync(pinPathFor(r.target.url)); // deleting is how a user accepts a changed file
        verified.delete(r.target.storePath);
      }
      failures.delete(id);
    },
    async storageAsync(): Promise<StorageInfo> {
      return store.usageAsync();
    },
    async generateAsync(request, { onProgress, signal } = {}): Promise<GenerateResult> {
      if (request.mode === 'boost') {
        const image = requireImage('a source image', request.image);
        const fp32 = chooseProvider(adapter, 'float32', { allowFallbackAdapter: opts.allowFallbackAdapter === true });
        const provider = opts.forceProvider === 'wasm' || (opts.forceProvider === 'webgpu' && adapter.available) ? opts.forceProvider : fp32.provider;
        let lastPreview = 0;
        const out = await upscalers.boostAsync(image, request.upscale ?? 2, provider, {
          ...(signal ? { signal } : {}),
          ...(onProgress ? {
            onProgress: (p: { done: number; total: number; image: RgbaImage }) => {
              const t = Date.now();
              const withPreview = p.done === p.total || t - lastPreview > 300;
              if (withPreview) lastPreview = t;
              onProgress({ step: p.done, total: p.total, stage: 'denoise', ...(withPreview ? { preview: boostThumbnail(p.image, 256) } : {}) });
            },
          } : {}),
        });
        if (!request.refineModelId) return { png: await encodePngAsync(out), width: out.width, height: out.height, seed: request.seed, droppedTokens: 0 };
        // Upscale + refine: low-strength img2img over the large image in model-sized, blended tiles.
        const refined = await refineAsync(out, request.refineModelId, request, onProgress, signal);
        return { png: await encodePngAsync(refined.image), width: refined.image.width, height: refined.image.height, seed: request.seed, droppedTokens: refined.droppedTokens };
      }
      const entry = entryOf(request.modelId);
      const present = await presentMapAsync();
      if ((await statusOf(entry, present)) !== 'ready') {
        throw new AppError('MODEL_NOT_READY', `${entry.manifest.name} is not downloaded yet.`, { hint: 'Download it from the Models tab first.' });
      }
      if (signal?.aborted) throw new AppError('CANCELLED', 'Generation cancelled.');
      // Optional components this task needs are fetched on first use (the VAE encoder for Edit / Inpaint / a
      // wireframe over an image); live previews use the preview decoder only when it is already stored.
      const fullResolution = request.fullResolution && (request.mode === 'generate' || request.mode === 'edit') ? request.fullResolution : undefined;
      if (fullResolution && !entry.manifest.raw.capabilities.img2img) {
        throw new AppError('INVALID_INPUT', `${entry.manifest.name} cannot make full-resolution images (it has no image-to-image to refine with).`, { hint: 'Turn “Full resolution” off, or pick another model.' });
      }
      if (request.mode === 'edit' || request.mode === 'inpaint' || (request.mode === 'wireframe' && request.image) || fullResolution) {
        await ensureComponentAsync(entry, 'vae_encoder', signal);
      }
      // Live previews through the preview decoder (TAESD, a few MB) when the run has steps to preview: fetched on the
      // first such run; if it cannot be had, previews stay the cheap latent-RGB ones.
      const previews = request.steps > 1 && !!entry.manifest.components.preview_decoder &&
        await ensureComponentAsync(entry, 'preview_decoder', signal).catch((err: unknown) => {
          if (toAppError(err).code === 'CANCELLED') throw err;
          return false;
        });
      const runManifest = previews || !entry.manifest.components.preview_decoder ? entry.manifest
        : { ...entry.manifest, components: Object.fromEntries(Object.entries(entry.manifest.components).filter(([r]) => r !== 'preview_decoder')) };
      const tokenizer = await tokenizerForAsync(entry);
      const manager = await managerForAsync(entry);
      const providerInUse = current?.provider;
      const ctx: PipelineContext = {
        manifest: runManifest, sessions: manager, tokenizer,
        ...(signal ? { signal } : {}),
        ...(onProgress ? { onProgress: (p) => onProgress(p.preview ? { step: p.step, total: p.total, stage: p.stage, preview: p.preview } : { step: p.step, total: p.total, stage: p.stage }) } : {}),
      };
      const base = {
        prompt: request.prompt, negativePrompt: request.negativePrompt, width: request.width, height: request.height,
        steps: request.steps, guidanceScale: request.guidanceScale, seed: request.seed,
      };
      let result: PipelineResult;
      try {
        switch (request.mode) {
          case 'generate': result = await textToImageAsync(ctx, base); break;
          case 'edit': result = await imageToImageAsync(ctx, { ...base, image: requireImage('a source image', request.image), strength: request.strength ?? entry.manifest.raw.defaults.strength }); break;
          case 'inpaint': result = await inpaintAsync(ctx, { ...base, image: requireImage('a source image', request.image), mask: requireImage('a mask', request.mask), strength: request.strength ?? 1 }); break;
          case 'wireframe': result = await controlNetAsync(ctx, {
            ...base, control: requireImage('a control image', request.control),
            controlScale: request.controlScale ?? entry.manifest.raw.defaults.control_scale ?? 1,
            ...(request.image ? { image: request.image, strength: request.strength ?? 1 } : {}),
          }); break;
          default: throw new AppError('INVALID_INPUT', `Unknown mode ${JSON.stringify((request as { mode: unknown }).mode)}; expected generate, edit, inpaint or wireframe.`);
        }
      } catch (err) {
        // Once the device is gone, the pipeline's clean-up (disposing GPU tensors, releasing sessions) fails too, with
        // ORT's raw text ("null function") that would hide the cause: report the run as DEVICE_LOST.
        const e = toAppError(err);
        const onGpu = providerInUse === 'webgpu';
        if (onGpu && e.code !== 'CANCELLED' && e.code !== 'DEVICE_LOST' && (deviceLost || opts.deviceWatch?.lost)) throw deviceLostError(opts.deviceWatch?.reason, err);
        throw e;
      } finally {
        if (policy === 'low-memory') await manager.releaseAllAsync().catch(() => undefined);
      }
      let image = result.image;
      if (fullResolution) {
        // The layer's pixels at 2×: the part that shows in the layer, resized, then refined in blended tiles.
        const c = cropRect(fullResolution.crop, image);
        const big = resizeImage(cropImage(image, c.x, c.y, c.width, c.height), fullResolution.width, fullResolution.height, 'lanczos');
        image = (await refineAsync(big, request.modelId, { ...request, strength: fullResolution.strength }, onProgress, signal, 'refine')).image;
      }
      const png = await encodePngAsync(image);
      // How to reproduce this image with diffusers (stored in the layer's recipe).
      const strength = request.mode === 'edit' ? request.strength ?? entry.manifest.raw.defaults.strength : request.strength ?? 1;
      let reproduce = diffusersReproduction(ctx, {
        mode: ({ generate: 'txt2img', edit: 'img2img', inpaint: 'inpaint', wireframe: 'controlnet' } as const)[request.mode],
        seed: request.seed, steps: request.steps, strength, withImage: request.mode === 'wireframe' && !!request.image && strength < 1,
      });
      if (fullResolution && reproduce.departures.length < 8) {
        const t = refineTiling(entry.manifest.raw.sizes);
        reproduce = { ...reproduce, departures: [...reproduce.departures, `Full resolution: the ${result.image.width}×${result.image.height} image is cropped to the layer, Lanczos-resized to ${image.width}×${image.height} and refined by img2img at strength ${fullResolution.strength} in ${t.tile}-px tiles (seed + tile index, seams blended); diffusers has no such step.`.slice(0, 300)] };
      }
      return { png, width: image.width, height: image.height, seed: request.seed, droppedTokens: result.droppedTokens, reproduce };
    },
    async tokenCountAsync(modelId, text) {
      const tokenizer = await tokenizerForAsync(entryOf(modelId));
      return tokenizer.countTokens(text);
    },
    async loadModelFromFilesAsync(id, files, onProgress) {
      return engine.loadModelFromPickedAsync(id, pickedFromFileList(files), onProgress);
    },
    async loadModelFromPickedAsync(id, pickedFiles, onProgress) {
      const entry = entryOf(id);
      const refs = filesOf(entry);
      const modelRefs = refs.filter((r) => r.spec);
      const matched = matchPickedFiles(modelRefs.map((r) => ({ path: r.spec!.path, bytes: r.target.bytes, exactBytes: r.target.sha256 !== undefined })), pickedFiles);
      const total = [...matched.values()].reduce((s, b) => s + b.size, 0);
      let done = 0;
      const t0 = Date.now();
      for (const r of modelRefs) {
        const blob = matched.get(r.spec!.path)!;
        // Verify before first use, as for downloads.
        const reader = (blob.stream() as ReadableStream<Uint8Array>).getReader();
        const h = await createSha256Async();
        let first = true;
        for (;;) {
          const { done: end, value } = await reader.read();
          if (end) break;
          if (first) {
            first = false;
            const problem = checkMagic(r.target.kind, value);
            if (problem) throw new AppError('INVALID_INPUT', `${r.spec!.path} in the picked folder is not usable: ${problem}.`);
          }
          if (r.target.sha256) h.update(value);
          done += value.length;
          const secs = Math.max(0.001, (Date.now() - t0) / 1000);
          onProgress({ bytes: done, total, rate: done / secs, etaSeconds: (total - done) / (done / secs) });
        }
        if (r.target.sha256) {
          const digest = h.digestHex();
          if (digest !== r.target.sha256) throw new AppError('INTEGRITY_MISMATCH', `${r.spec!.path} in the picked folder is corrupt or a different version: sha256 ${digest}, expected ${r.target.sha256}.`);
        }
      }
      for (const r of modelRefs) picked.set(r.target.storePath, matched.get(r.spec!.path)!);
      // Tokenizer files: from the folder when present (at their manifest path, e.g. tokenizer/vocab.json) and verified
      // like the weights when the manifest pins a sha256; else downloaded (verified by the downloader).
      const tokRefs = refs.filter((r) => r.tokenizer);
      const folder = createFolderStore(new Map(pickedFiles.map((p) => [p.path.replace(/\\/g, '/'), p.file])));
      const missing: DownloadTarget[] = [];
      for (const r of tokRefs) {
        const want = r.tokenizer!.path;
        const hit = (await folder.listAsync()).find((e) => e.path === want || e.path.endsWith(`/${want}`));
        const blob = hit ? await folder.getAsync(hit.path) : null;
        if (blob && r.target.sha256) {
          const digest = await sha256HexOfBytesAsync(new Uint8Array(await blob.arrayBuffer()));
          if (digest !== r.target.sha256) throw new AppError('INTEGRITY_MISMATCH', `${want} in the picked folder is corrupt or a different version: sha256 ${digest}, expected ${r.target.sha256}.`);
        }
        if (blob) picked.set(r.target.storePath, blob);
        else missing.push(r.target);
      }
      if (missing.length > 0) await downloadFilesAsync(missing, { store, network, ...opts.downloadTuning });
      tokenizers.delete(id);
    },
    async addCustomModelAsync(input) {
      const e = await addCustomModelAsync(input, network);
      const builtin = entries.get(e.manifest.id);
      if (builtin?.origin === 'builtin') throw new AppError('INVALID_INPUT', `A built-in model already has the id "${e.manifest.id}"; give the custom model another id.`);
      entries.set(e.manifest.id, e);
      if (store.persistent && store.kind !== 'folder') {
        await store.putAsync(`catalog/custom/${e.manifest.id}.json`, new TextEncoder().encode(JSON.stringify({ base_url: e.baseUrl, manifest: e.manifest.raw })));
      }
      return entryFor(e, await presentMapAsync());
    },
    async closeAsync() {
      await upscalers.closeAsync();
      if (current) await current.manager.releaseAllAsync().catch(() => undefined);
      current = null;
    },
  };
  // Start-up: what is stored is checked before anything is shown as Ready.
  await repairAsync().catch((err: unknown) => console.warn(`Model store check failed: ${toAppError(err).message}`));
  if (catalogErrors.length > 0) {
    // Surface catalogue problems without blocking the built-in models.
    console.warn(`Model catalogue problems: ${catalogErrors.join(' | ')}`);
  }
  return engine;
}
