/**
 * Persisted UI settings (pure). They travel to the plugin in `save-settings` (stored in figma.clientStorage, which
 * is why they stay small) and come back in `init.settings` as unknown plain data: `parseSettings` accepts anything
 * and keeps every valid field, replacing the rest with defaults — a corrupt or older blob never breaks the UI.
 */
import { MODES, type Mode } from '../../protocol/messages';
import { MAX_SEED, SEED_POLICIES, normalizeSeed, type SeedPolicy } from './seed-policy';

export interface StylePreset {
  readonly id: string;
  readonly name: string;
  /** Appended to the prompt: "<prompt>, <preset.prompt>". */
  readonly prompt: string;
  /** Appended to the negative prompt. */
  readonly negativePrompt: string;
}

/** Per-model overrides of the manifest's defaults; absent = the model's default. */
export interface ModelParams {
  readonly steps?: number;
  readonly guidance?: number;
  readonly strength?: number;
  readonly controlScale?: number;
}

export type InsertTarget = 'new-layer' | 'replace-fill';
export const CONTROL_TYPES = ['lineart', 'scribble', 'canny', 'mlsd'] as const;
export type ControlType = (typeof CONTROL_TYPES)[number];

export interface Settings {
  readonly version: 1;
  readonly prompt: string;
  readonly negativePrompt: string;
  /** 'none' or a preset id. */
  readonly presetId: string;
  readonly presets: readonly StylePreset[];
  readonly seedPolicy: SeedPolicy;
  readonly seed: number;
  readonly batchCount: number;
  /** Generate: requested size; null = "Match selection" (the selected layer's aspect; the model's default when nothing is selected). */
  readonly size: { readonly width: number; readonly height: number } | null;
  readonly target: InsertTarget;
  /** Inpaint: mask feather in working pixels. */
  readonly maskFeather: number;
  /** Wireframe: how outlines are drawn; null = the model's own control type. */
  readonly controlType: ControlType | null;
  readonly modelByMode: Readonly<Partial<Record<Mode, string>>>;
  readonly paramsByModel: Readonly<Record<string, ModelParams>>;
  /**
   * Hosted mode's theme (Figma gives hosted UIs no theme): the plugin reads `settings.theme` for `init.theme` and
   * echoes `theme` after save-settings. The inline UI follows Figma's own `figma-dark` class instead.
   */
  readonly theme: 'light' | 'dark';
  /** Whether the Advanced settings (model, size, steps, images, seed…) are open. */
  readonly advanced: boolean;
  /**
   * The server the user pointed the plugin at (Models → Server); null = none, and then nothing is sent anywhere.
   * The token stays in figma.clientStorage on this computer (never in the document or a recipe).
   */
  readonly server: ServerSettings | null;
  /** Where the next generation runs: this device, or the configured server (the picker beside Generate). */
  readonly engine: 'local' | 'server';
  /** Generate / Edit: make the layer's pixels at 2× (the image is refined in tiles after it is made; takes longer). */
  readonly fullResolution: boolean;
  /** The Style reference control as the designer left it (checked again by id when the plugin opens). */
  readonly style: StyleSettings;
}

/** Style reference: on/off, the chosen layer and the strength. */
export interface StyleSettings {
  readonly enabled: boolean;
  readonly strength: number;
  /** The reference layer (an id in the file it was chosen in) with its name and thumbnail (base64 PNG) to show. */
  readonly ref: { readonly nodeId: string; readonly name: string; readonly thumbnail?: string } | null;
}

/** The longest remembered thumbnail (base64 characters; a 128-px PNG is usually far smaller): larger ones are not kept. */
export const MAX_STYLE_THUMBNAIL_CHARS = 64_000;

export interface ServerSettings {
  readonly kind: 'comfyui' | 'swarmui';
  readonly url: string;
  readonly token: string;
}

export const LIMITS = {
  prompt: 4000,
  steps: { min: 1, max: 150 },
  guidance: { min: 0, max: 30 },
  strength: { min: 0, max: 1 },
  controlScale: { min: 0, max: 2 },
  maskFeather: { min: 0, max: 128 },
  batchCount: { min: 1, max: 8 },
  presets: 24,
  models: 24,
} as const;

export const DEFAULT_PRESETS: readonly StylePreset[] = [
  { id: 'photo', name: 'Photo', prompt: 'professional photograph, natural light, sharp focus, high detail', negativePrompt: 'illustration, painting, cartoon, blurry, lowres' },
  { id: 'illustration', name: 'Flat illustration', prompt: 'flat vector illustration, clean shapes, soft colours', negativePrompt: 'photo, noisy, blurry, text' },
  { id: '3d', name: '3D render', prompt: '3d render, soft studio lighting, clay material', negativePrompt: 'photo, flat, blurry' },
  { id: 'ui', name: 'UI mockup', prompt: 'clean modern app interface, high fidelity mockup, crisp', negativePrompt: 'blurry, distorted, lowres' },
  { id: 'isometric', name: 'Isometric', prompt: 'isometric illustration, pastel colours, clean lines', negativePrompt: 'photo, blurry' },
];

export const DEFAULT_SETTINGS: Settings = {
  version: 1,
  prompt: '',
  negativePrompt: '',
  presetId: 'none',
  presets: DEFAULT_PRESETS,
  seedPolicy: 'random',
  seed: 42,
  batchCount: 1,
  size: null,
  target: 'new-layer',
  maskFeather: 8,
  controlType: null,
  modelByMode: {},
  paramsByModel: {},
  theme: 'light',
  advanced: false,
  server: null,
  engine: 'local',
  fullResolution: false,
  style: { enabled: false, strength: 0.8, ref: null },
};

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown, max: number, fallback: string): string => (typeof v === 'string' ? v.slice(0, max) : fallback);
const num = (v: unknown, min: number, max: number, fallback: number, integer = false): number => {
  if (typeof v !== 'number' || !Number.isFinite(v)) return fallback;
  const n = integer ? Math.round(v) : v;
  return Math.min(max, Math.max(min, n));
};
const optNum = (v: unknown, min: number, max: number, integer = false): number | undefined =>
  typeof v === 'number' && Number.isFinite(v) ? num(v, min, max, min, integer) : undefined;

function parsePreset(v: unknown): StylePreset | null {
  if (!isObj(v) || typeof v.id !== 'string' || !v.id || typeof v.name !== 'string') return null;
  return {
    id: v.id.slice(0, 40),
    name: v.name.slice(0, 60) || 'Untitled',
    prompt: str(v.prompt, 1000, ''),
    negativePrompt: str(v.negativePrompt, 1000, ''),
  };
}

function parseParams(v: unknown): ModelParams | null {
  if (!isObj(v)) return null;
  const out: { -readonly [K in keyof ModelParams]: ModelParams[K] } = {};
  const steps = optNum(v.steps, LIMITS.steps.min, LIMITS.steps.max, true);
  const guidance = optNum(v.guidance, LIMITS.guidance.min, LIMITS.guidance.max);
  const strength = optNum(v.strength, LIMITS.strength.min, LIMITS.strength.max);
  const controlScale = optNum(v.controlScale, LIMITS.controlScale.min, LIMITS.controlScale.max);
  if (steps !== undefined) out.steps = steps;
  if (guidance !== undefined) out.guidance = guidance;
  if (strength !== undefined) out.strength = strength;
  if (controlScale !== undefined) out.controlScale = controlScale;
  return out;
}

/** Any plain data → Settings. Never throws; unknown keys are dropped, bad values fall back to defaults. */
export function parseSettings(data: unknown): Settings {
  const d = DEFAULT_SETTINGS;
  if (!isObj(data)) return d;
  const presets = Array.isArray(data.presets)
    ? data.presets.map(parsePreset).filter((p): p is StylePreset => p !== null).slice(0, LIMITS.presets)
    : d.presets;
  const uniquePresets = presets.filter((p, i) => presets.findIndex((q) => q.id === p.id) === i);
  const presetId = typeof data.presetId === 'string' && uniquePresets.some((p) => p.id === data.presetId) ? data.presetId : 'none';

  const size = isObj(data.size) && typeof data.size.width === 'number' && typeof data.size.height === 'number'
    && Number.isInteger(data.size.width) && Number.isInteger(data.size.height)
    && data.size.width >= 64 && data.size.height >= 64 && data.size.width <= 4096 && data.size.height <= 4096
    ? { width: data.size.width, height: data.size.height }
    : null;

  const modelByMode: Partial<Record<Mode, string>> = {};
  if (isObj(data.modelByMode)) {
    for (const m of MODES) {
      const id = data.modelByMode[m];
      if (typeof id === 'string' && id.length > 0 && id.length <= 200) modelByMode[m] = id;
    }
  }
  const paramsByModel: Record<string, ModelParams> = {};
  if (isObj(data.paramsByModel)) {
    for (const [id, p] of Object.entries(data.paramsByModel).slice(0, LIMITS.models)) {
      const parsed = parseParams(p);
      if (parsed && id.length <= 200) paramsByModel[id] = parsed;
    }
  }
  return {
    version: 1,
    prompt: str(data.prompt, LIMITS.prompt, d.prompt),
    negativePrompt: str(data.negativePrompt, LIMITS.prompt, d.negativePrompt),
    presetId,
    presets: uniquePresets,
    seedPolicy: SEED_POLICIES.includes(data.seedPolicy as SeedPolicy) ? (data.seedPolicy as SeedPolicy) : d.seedPolicy,
    seed: typeof data.seed === 'number' && Number.isFinite(data.seed) ? normalizeSeed(Math.min(data.seed, MAX_SEED)) : d.seed,
    batchCount: num(data.batchCount, LIMITS.batchCount.min, LIMITS.batchCount.max, d.batchCount, true),
    size,
    target: data.target === 'replace-fill' ? 'replace-fill' : 'new-layer',
    maskFeather: num(data.maskFeather, LIMITS.maskFeather.min, LIMITS.maskFeather.max, d.maskFeather),
    controlType: CONTROL_TYPES.includes(data.controlType as ControlType) ? (data.controlType as ControlType) : null,
    modelByMode,
    paramsByModel,
    theme: data.theme === 'dark' ? 'dark' : 'light',
    advanced: data.advanced === true,
    server: parseServer(data.server),
    engine: data.engine === 'server' ? 'server' : 'local',
    fullResolution: data.fullResolution === true,
    style: parseStyle(data.style),
  };
}

function parseStyle(v: unknown): StyleSettings {
  const d = DEFAULT_SETTINGS.style;
  if (!isObj(v)) return d;
  const r = v.ref;
  const ref = isObj(r) && typeof r.nodeId === 'string' && r.nodeId.length > 0 && r.nodeId.length <= 200 && typeof r.name === 'string'
    ? {
      nodeId: r.nodeId,
      name: r.name.slice(0, 1000),
      ...(typeof r.thumbnail === 'string' && r.thumbnail.length <= MAX_STYLE_THUMBNAIL_CHARS && /^[A-Za-z0-9+/]+={0,2}$/.test(r.thumbnail) ? { thumbnail: r.thumbnail } : {}),
    }
    : null;
  return { enabled: v.enabled === true, strength: num(v.strength, 0, 1, d.strength), ref };
}

/** PNG bytes → base64 (settings are JSON). */
export function bytesToBase64(bytes: Uint8Array): string {
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** base64 → bytes; null when it is not base64. */
export function base64ToBytes(text: string): Uint8Array | null {
  try {
    const bin = atob(text);
    const out = new Uint8Array(bin.length);
    for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out;
  } catch {
    return null;
  }
}

function parseServer(v: unknown): ServerSettings | null {
  if (!isObj(v) || typeof v.url !== 'string' || !/^https?:\/\/[^\s]{1,300}$/.test(v.url)) return null;
  return { kind: v.kind === 'swarmui' ? 'swarmui' : 'comfyui', url: v.url, token: str(v.token, 2000, '') };
}

/** Settings → plain JSON-safe data for `save-settings` (round-trips through parseSettings unchanged). */
export function serializeSettings(settings: Settings): Record<string, unknown> {
  return JSON.parse(JSON.stringify(settings)) as Record<string, unknown>;
}

/** The prompt and negative prompt with the active style preset applied. */
export function applyPreset(settings: Pick<Settings, 'prompt' | 'negativePrompt' | 'presetId' | 'presets'>): { prompt: string; negativePrompt: string } {
  const preset = settings.presets.find((p) => p.id === settings.presetId);
  const join = (a: string, b: string | undefined): string => [a.trim(), (b ?? '').trim()].filter((s) => s.length > 0).join(', ');
  return { prompt: join(settings.prompt, preset?.prompt), negativePrompt: join(settings.negativePrompt, preset?.negativePrompt) };
}

/** A new preset id not used by `presets`. */
export function newPresetId(presets: readonly StylePreset[]): string {
  let i = presets.length + 1;
  while (presets.some((p) => p.id === `custom-${i}`)) i++;
  return `custom-${i}`;
}
