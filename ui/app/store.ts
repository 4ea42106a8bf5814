/**
 * The app's state (signals) and actions. DOM-free: Node tests drive it with a fake bridge and a fake engine.
 *
 * Generate flow: `prepare-job` → `job-inputs` → prepareJob (decode, rasterise) → for each batch image
 * engine.generateAsync (progress + preview per step, AbortSignal) → `insert-result` → (last one) `insert-done`.
 */
import { batch, computed, effect, signal, type ReadonlySignal } from '@preact/signals';
import { AppError, toAppError, type ErrorData } from '../../protocol/errors';
import { MODES, newRequestId, type HistoryEntry, type Mode, type PluginToUi, type SelectionInfo } from '../../protocol/messages';
import type { AppEnv } from './env';
import type { EngineCapabilities, GenerateResult, ModelEntry, RgbaImage, ServerHealth, StorageInfo } from '../contracts/engine';
import { formatBytes, withHint } from './format';
import { makeRecipe, prepareJob, type JobForm, type Rasterizer } from './job';
import { BOOST_SIZE_REQUEST, boostHintLine, scalePlacement } from './boost';
import { planFullResolution } from './full-resolution';
import { FULL_RESOLUTION_STRENGTH, fullResolutionCost, refineTiling } from '../core/upscale/full-resolution';
import type { BoostScale } from '../../protocol/boost-size';
import {
  chooseMode, effectiveParams, effectiveSize, fitWorkingSize, modeAvailability, modelControlType, modelSupportsMode, modelsForMode, pickModel,
  selectionHintLine, workingSizeRequest, type EffectiveParams,
} from './model-params';
import { settingsFromRecipe, type RecipeAction } from './recipe-form';
import { planSeeds } from './seed-policy';
import { isBlankPrompt } from './field-check';
import {
  applyPreset, base64ToBytes, bytesToBase64, parseSettings, serializeSettings, DEFAULT_SETTINGS, MAX_STYLE_THUMBNAIL_CHARS,
  type ControlType, type ModelParams, type ServerSettings, type Settings, type StyleSettings,
} from './settings';

export type View = 'create' | 'history' | 'models';

/** The control an error belongs next to (shown there, not in the top banner). */
export type ErrorField = 'selection' | 'model' | 'prompt' | 'target' | 'style';
export type UiError = ErrorData & { readonly field?: ErrorField };

/** One run's overrides: History Re-run/Vary and relaunch buttons run a stored recipe on its own layers. */
export interface RunOptions {
  /** The seeds to use (one image each) instead of the seed policy's. */
  readonly seeds?: readonly number[];
  /** The layers to run on (found by id by the plugin) instead of the live selection; [] = nothing selected. */
  readonly sourceNodeIds?: readonly string[];
  /** Generate: this exact size. */
  readonly size?: { readonly width: number; readonly height: number };
}

/** Which control an error is about (null: the banner). */
export function errorField(e: ErrorData): ErrorField | null {
  // Every message about the style reference (plugin, store, server engine) names it: shown at that control.
  if (/style reference/i.test(e.message)) return 'style';
  if (e.code === 'MODEL_NOT_READY') return 'model';
  if (e.code === 'INVALID_SELECTION' && /Insert as/.test(e.hint ?? '')) return 'target';
  if (e.code === 'INVALID_SELECTION' || e.code === 'SOURCE_CHANGED') return 'selection';
  if (e.code === 'INVALID_INPUT' && /prompt/i.test(e.message)) return 'prompt';
  return null;
}

/**
 * Time left for a whole batch, from the share of it done so far (images done + this image's denoise steps) and the
 * time it took — so encoding, decoding and inserting count too. Never goes up: at most the last shown value minus
 * the time since (a stable countdown rather than 7→6→2→5 s).
 */
export function batchEta(p: { elapsedMs: number; done: number; previous?: { seconds: number; sinceMs: number } }): number | undefined {
  if (!(p.done > 0) || !(p.elapsedMs > 0)) return p.previous ? Math.max(0, p.previous.seconds - p.previous.sinceMs / 1000) : undefined;
  const estimate = (p.elapsedMs * (1 - Math.min(1, p.done))) / Math.min(1, p.done) / 1000;
  if (!p.previous) return estimate;
  return Math.max(0, Math.min(estimate, p.previous.seconds - p.previous.sinceMs / 1000));
}

export interface RunState {
  readonly jobId: string;
  readonly phase: 'preparing' | 'generating' | 'inserting';
  readonly batchIndex: number;
  readonly batchCount: number;
  readonly step: number;
  readonly total: number;
  readonly stage: 'queued' | 'text' | 'encode' | 'denoise' | 'decode' | 'refine' | null;
  /** The share of the current image done (0..1) when steps alone would mislead (a full-resolution refine pass). */
  readonly imageShare?: number;
  /** stage 'queued' on a server: prompts ahead of this one. */
  readonly queuePosition?: number;
  readonly etaSeconds?: number;
  readonly cancelling: boolean;
}

export interface TokenInfo {
  /** Content tokens (no BOS/EOS). */
  readonly count: number;
  /** Content tokens that fit (max length − 2). */
  readonly limit: number;
  readonly dropped: number;
}

export interface StoreDeps {
  readonly raster: Rasterizer;
  /** [0, 1) random source for seeds (injected: tests are deterministic). */
  readonly random?: () => number;
  /** ms clock for ETAs. */
  readonly now?: () => number;
  readonly saveDelayMs?: number;
  readonly tokenDelayMs?: number;
}

/**
 * ETA for a batch run, from the average time per denoise step so far in this image.
 * `stepMs` is that average; remaining = this image's remaining steps + every later image's steps.
 */
export function estimateRunEta(p: { step: number; total: number; batchIndex: number; batchCount: number; stepMs: number }): number | undefined {
  if (!(p.stepMs > 0) || p.step < 1) return undefined;
  const remainingSteps = Math.max(0, p.total - p.step) + Math.max(0, p.batchCount - 1 - p.batchIndex) * p.total;
  return (remainingSteps * p.stepMs) / 1000;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new AppError('CANCELLED', 'Cancelled.'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new AppError('CANCELLED', 'Cancelled.'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

export type AppStore = ReturnType<typeof createAppStore>;

/** The remembered style reference is not in this file (deleted, or the plugin was opened in another file). */
export const styleMissingMessage = (name: string): string => `The style reference “${name}” you used last time is not in this file.`;
export const STYLE_MISSING_HINT = 'Select the image whose look you want and press “Use selection” — or turn Style reference off.';

/** Variations run at least this many images, to compare. */
export const VARIATIONS = 4;
const MODE_NAME: Readonly<Record<Mode, string>> = { generate: 'Generate', edit: 'Edit', inpaint: 'Inpaint', wireframe: 'Wireframe → mockup', boost: 'Boost' };

export function createAppStore(env: AppEnv, deps: StoreDeps) {
  const { bridge, engine } = env;
  const random = deps.random ?? Math.random;
  const now = deps.now ?? (() => performance.now());

  // ---- state -------------------------------------------------------------------------------------------------
  const ready = signal(false);
  const pluginVersion = signal('0.0.0');
  /** The theme the plugin sent (init.theme / theme messages). */
  const theme = signal<'light' | 'dark'>('light');
  /** Figma's own theme class on <html> (inline mode with themeColors); wins when present. */
  const figmaTheme = signal<'light' | 'dark' | null>(null);
  /**
   * Hosted mode: Figma's theme when the plugin opened (the bootstrap page passes it on; Figma gives hosted pages no
   * live theme). It wins over the saved theme until the user picks one in Models (e.g. after switching Figma's).
   */
  const bootTheme = signal<'light' | 'dark' | null>(null);
  const themePicked = signal(false);
  const selection = signal<SelectionInfo | null>(null);
  const mode = signal<Mode>('generate');
  const settings = signal<Settings>(DEFAULT_SETTINGS);
  const models = signal<readonly ModelEntry[]>([]);
  const modelsLoaded = signal(false);
  const capabilities = signal<EngineCapabilities | null>(null);
  const storage = signal<StorageInfo | null>(null);
  const view = signal<View>('create');
  const tokens = signal<TokenInfo | null>(null);
  const run = signal<RunState | null>(null);
  const preview = signal<RgbaImage | null>(null);
  const lastResultPng = signal<Uint8Array | null>(null);
  /** Node ids the last run inserted (for "Show on canvas"). */
  const lastInserted = signal<readonly string[]>([]);
  /** Average ms per denoise step per model, from earlier runs this session (first ETA before step 1). */
  const stepMsByModel = new Map<string, number>();
  const lastSeeds = signal<readonly number[]>([]);
  /** Seconds one image took per model on this device (the last run), for an honest estimate. */
  const imageSeconds = signal<Readonly<Record<string, number>>>({});
  const error = signal<UiError | null>(null);
  /** Models view: the card to scroll to ("Open Models" from a callout). */
  const modelFocus = signal<string | null>(null);
  /** A run waiting for its model (relaunch / quick action / re-run before the download finished). */
  const pendingRun = signal<{ options: RunOptions; label: string } | null>(null);
  /** Quick action: the window is hidden; close the plugin when the run is done. */
  const headless = signal(false);
  const notice = signal<string | null>(null);
  const history = signal<readonly HistoryEntry[]>([]);
  const historyState = signal<'idle' | 'loading' | 'loaded'>('idle');
  const pendingLicence = signal<string | null>(null);
  const relaunchNote = signal<string | null>(null);
  /** Why the clicked mode tab can't be used, in words. */
  const tabHelp = signal<string | null>(null);
  /** Boost: the upscale factor. */
  const boostScale = signal<BoostScale>(2);
  /** Boost: refine the upscaled image with a diffusion model (Krita's upscale + refine), and how strongly. */
  const boostRefine = signal(false);
  const boostRefineStrength = signal(0.3);
  /** Style reference (server engines): on/off, the chosen layer (id, name, thumbnail) and the strength. */
  const styleEnabled = signal(false);
  const styleRef = signal<{ readonly nodeId: string; readonly name: string; readonly thumbnail?: Uint8Array } | null>(null);
  const styleStrength = signal(0.8);
  const stylePicking = signal(false);
  /**
   * The remembered reference (last session) that is not in this file any more — found by id when the plugin opened:
   * its name and thumbnail, said at the control until another is chosen.
   */
  const styleMissing = signal<{ readonly name: string; readonly thumbnail?: Uint8Array } | null>(null);
  /** The configured server's health check, or why it failed (Models → Server). */
  const serverHealth = signal<ServerHealth | null>(null);
  const serverState = signal<'none' | 'connecting' | 'connected' | 'failed'>('none');
  const serverError = signal<ErrorData | null>(null);

  // ---- derived -----------------------------------------------------------------------------------------------
  /** The models of the engine the picker chose (this device, or the connected server). */
  const engineModels = computed(() => models.value.filter((m) => ((m.engine ?? 'local') === 'local') === (settings.value.engine === 'local')));
  const capableModels = computed(() => modelsForMode(engineModels.value, mode.value));
  const model = computed<ModelEntry | null>(() => pickModel(engineModels.value, mode.value, settings.value.modelByMode[mode.value]));
  const params = computed<EffectiveParams>(() => effectiveParams(model.value, model.value ? settings.value.paramsByModel[model.value.id] : undefined));
  const controlType = computed<ControlType>(() => settings.value.controlType ?? modelControlType(model.value) ?? 'lineart');
  /** "Match selection": no size chosen and a usable layer selected — the run follows the layer's aspect. */
  const matchSelection = computed(() => settings.value.size === null && !!selection.value?.source);
  /** The size "Match selection" runs at: the selected layer's aspect at the model's area (null: nothing usable selected). */
  const matchSize = computed(() => {
    const src = selection.value?.source;
    const m = model.value;
    return src && m ? fitWorkingSize(src.width, src.height, workingSizeRequest(m), m.sizes.fixed) : null;
  });
  const generateSize = computed(() => (settings.value.size === null && matchSize.value) || effectiveSize(model.value, settings.value.size));
  /** The model Boost refines with: Edit's (local) model when it is downloaded. */
  const refineModel = computed<ModelEntry | null>(() => {
    // The refine pass runs in this device's engine, next to the upscaler: local models only.
    const m = pickModel(models.value.filter((x) => (x.engine ?? 'local') === 'local'), 'edit', settings.value.modelByMode.edit);
    return m && m.status === 'ready' ? m : null;
  });
  /** Generate / Edit: what “Full resolution” would make here and what it costs, or why it can't (null: other modes). */
  const fullResolutionPlan = computed(() => planFullResolution({
    mode: mode.value, selection: selection.value, model: model.value, generateSize: generateSize.value, steps: params.value.steps,
  }));
  /** Whether the next run makes full resolution (on and possible here). */
  const fullResolutionOn = computed(() => settings.value.fullResolution && fullResolutionPlan.value?.available === true);
  const hintLine = computed(() => (mode.value === 'boost'
    ? boostHintLine(selection.value, boostScale.value)
    : selectionHintLine(selection.value, mode.value, model.value, generateSize.value)));
  const finalPrompts = computed(() => applyPreset(settings.value));
  /**
   * Whether Style reference can be used with the chosen engine: only a server applies one (IP-Adapter or a style
   * model); this device's engine has neither, so there the control is off with the reason. Boost has no style.
   */
  const styleAvailability = computed<{ shown: boolean; enabled: boolean; reason?: string }>(() => {
    if (mode.value === 'boost') return { shown: false, enabled: false };
    if (settings.value.engine !== 'server') {
      return {
        shown: true, enabled: false,
        reason: `Style reference runs on a ComfyUI server (IP-Adapter or a style model); this device's engine can't apply one. ${serverState.value === 'connected' ? 'Choose your server in “Run on”.' : 'Connect one in Models → Server, then choose it in “Run on”.'}`,
      };
    }
    return { shown: true, enabled: true };
  });
  /** The style reference applies to the next run. */
  const styleActive = computed(() => styleEnabled.value && styleAvailability.value.enabled);
  const running = computed(() => run.value !== null);
  const effectiveTheme = computed(() => figmaTheme.value ?? (bootTheme.value && !themePicked.value ? bootTheme.value : theme.value));

  // ---- settings persistence (debounced save-settings) --------------------------------------------------------
  let saveTimer: ReturnType<typeof setTimeout> | undefined;
  let lastSaved = '';
  const flushSave = (): void => {
    if (saveTimer !== undefined) clearTimeout(saveTimer);
    saveTimer = undefined;
    const data = serializeSettings(settings.value);
    const text = JSON.stringify(data);
    if (text === lastSaved) return;
    lastSaved = text;
    bridge.send({ type: 'save-settings', requestId: newRequestId('s'), settings: data });
  };
  const disposers: (() => void)[] = [];
  // Typing in the prompt boxes is saved after a pause; any other change (a model, a mode, a checkbox) at once, so a
  // plugin closed right after it — Figma ends the UI and the main thread together — still opens with it next time.
  const withoutText = (text: string): string => {
    const { prompt: _p, negativePrompt: _n, ...rest } = JSON.parse(text) as Record<string, unknown>;
    return JSON.stringify(rest);
  };
  disposers.push(effect(() => {
    const text = JSON.stringify(serializeSettings(settings.value));
    if (!ready.peek() || text === lastSaved) return;
    if (saveTimer !== undefined) clearTimeout(saveTimer);
    if (lastSaved && withoutText(text) !== withoutText(lastSaved)) { flushSave(); return; }
    saveTimer = setTimeout(flushSave, deps.saveDelayMs ?? 600);
  }));

  // ---- the Style reference control is remembered with the settings ------------------------------------------
  disposers.push(effect(() => {
    const ref = styleRef.value;
    const thumbnail = ref?.thumbnail ? bytesToBase64(ref.thumbnail) : undefined;
    const next: StyleSettings = {
      enabled: styleEnabled.value,
      strength: styleStrength.value,
      ref: ref ? { nodeId: ref.nodeId, name: ref.name, ...(thumbnail && thumbnail.length <= MAX_STYLE_THUMBNAIL_CHARS ? { thumbnail } : {}) } : null,
    };
    if (JSON.stringify(next) !== JSON.stringify(settings.peek().style)) settings.value = { ...settings.peek(), style: next };
  }));

  // ---- live token counter (debounced) -------------------------------------------------------------------------
  let tokenTimer: ReturnType<typeof setTimeout> | undefined;
  let tokenSeq = 0;
  disposers.push(effect(() => {
    const m = model.value;
    const text = finalPrompts.value.prompt;
    if (tokenTimer !== undefined) clearTimeout(tokenTimer);
    if (!m) { tokens.value = null; return; }
    const seq = ++tokenSeq;
    const limit = (m.maxTokens ?? 77) - 2;
    tokenTimer = setTimeout(() => {
      engine.tokenCountAsync(m.id, text).then(
        (count) => { if (seq === tokenSeq) tokens.value = { count, limit, dropped: Math.max(0, count - limit) }; },
        () => { if (seq === tokenSeq) tokens.value = null; },
      );
    }, deps.tokenDelayMs ?? 250);
  }));

  // ---- actions -----------------------------------------------------------------------------------------------
  const update = (patch: Partial<Settings>): void => {
    settings.value = { ...settings.value, ...patch };
  };

  const setParam = (key: keyof ModelParams, value: number): void => {
    const m = model.value;
    if (!m) return;
    const cur = settings.value.paramsByModel[m.id] ?? {};
    update({ paramsByModel: { ...settings.value.paramsByModel, [m.id]: { ...cur, [key]: value } } });
  };

  const resetParams = (): void => {
    const m = model.value;
    if (!m) return;
    const next = { ...settings.value.paramsByModel };
    delete next[m.id];
    update({ paramsByModel: next });
  };

  const setModel = (id: string): void => {
    update({ modelByMode: { ...settings.value.modelByMode, [mode.value]: id } });
  };

  /** Hosted mode's theme switch: stored in settings (the plugin reads it back for init.theme). */
  const setTheme = (next: 'light' | 'dark'): void => {
    batch(() => {
      themePicked.value = true;
      theme.value = next;
      update({ theme: next });
    });
  };

  const setMode = (next: Mode): void => {
    mode.value = next;
  };

  const showError = (err: unknown, field?: ErrorField | null): void => {
    const e = toAppError(err);
    if (e.code === 'CANCELLED') return;
    const data = withHint(e.toData());
    const f = field === undefined ? errorField(data) : field;
    error.value = f ? { ...data, field: f } : data;
  };

  const loadRecipe = (recipe: HistoryEntry['recipe'], action: RecipeAction): void => {
    const r = settingsFromRecipe(settings.value, recipe, action);
    batch(() => {
      styleEnabled.value = Boolean(recipe.styleNodeId);
      if (recipe.styleNodeId) {
        styleMissing.value = null;
        styleRef.value = styleRef.value?.nodeId === recipe.styleNodeId ? styleRef.value : { nodeId: recipe.styleNodeId, name: 'the recipe’s reference' };
        styleStrength.value = recipe.styleStrength ?? styleStrength.value;
      }
      settings.value = r.settings;
      mode.value = r.mode;
      view.value = 'create';
      relaunchNote.value = action === 'variations'
        ? `Variations of “${recipe.prompt.slice(0, 60)}”: ${VARIATIONS} new seeds.`
        : `Running the recipe again with seed ${recipe.seed}.`;
    });
    // The reference's current name and thumbnail for the control (a layer that is gone is reported by the run).
    if (recipe.styleNodeId && !styleRef.peek()?.thumbnail) void pickStyleAsync(recipe.styleNodeId, { quiet: true });
  };

  /**
   * Style reference → “Use selection” / “Replace”: the plugin reads the selected layer (or `nodeId`, a recipe's) and
   * sends its id, name and thumbnail; the pixels are read again, fresh, when a run starts. Errors show at the control.
   */
  const pickStyleAsync = async (nodeId?: string, opts: { quiet?: boolean } = {}): Promise<void> => {
    stylePicking.value = true;
    try {
      const r = await bridge.requestAsync({ type: 'pick-style', requestId: newRequestId('st'), ...(nodeId ? { nodeId } : {}) });
      if (r.type !== 'style-picked') throw new AppError('INVALID_MESSAGE', `The plugin answered "${r.type}" instead of the style reference.`);
      batch(() => {
        styleRef.value = { nodeId: r.nodeId, name: r.name, ...(r.thumbnail ? { thumbnail: r.thumbnail } : {}) };
        styleEnabled.value = true;
        styleMissing.value = null;
        if (error.peek()?.field === 'style') error.value = null;
      });
    } catch (err) {
      if (!opts.quiet) showError(err, 'style');
    } finally {
      stylePicking.value = false;
    }
  };

  /**
   * The style reference remembered from the last session, found by id in this file: its current name and thumbnail;
   * when it is gone (or the id is now another layer — ids repeat across files) the control says so plainly and the
   * reference is forgotten. On another page or hidden it is kept: the run says what to do then.
   */
  const checkRememberedStyleAsync = async (): Promise<void> => {
    const ref = styleRef.peek();
    if (!ref) return;
    const forget = (): void => {
      batch(() => {
        styleMissing.value = { name: ref.name, ...(ref.thumbnail ? { thumbnail: ref.thumbnail } : {}) };
        styleRef.value = null;
      });
    };
    try {
      const r = await bridge.requestAsync({ type: 'pick-style', requestId: newRequestId('st'), nodeId: ref.nodeId });
      if (r.type !== 'style-picked') return;
      if (r.name !== ref.name) { forget(); return; }
      if (styleRef.peek() === ref) styleRef.value = { nodeId: r.nodeId, name: r.name, ...(r.thumbnail ? { thumbnail: r.thumbnail } : ref.thumbnail ? { thumbnail: ref.thumbnail } : {}) };
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'SOURCE_CHANGED' && /no longer/i.test(e.message) && styleRef.peek() === ref) forget();
    }
  };

  /** Style reference → Clear: no reference (the control stays on, asking for one). */
  const clearStyle = (): void => {
    batch(() => {
      styleRef.value = null;
      styleMissing.value = null;
      if (error.peek()?.field === 'style') error.value = null;
    });
  };

  /** Style reference on/off. */
  const setStyleEnabled = (on: boolean): void => {
    batch(() => {
      styleEnabled.value = on;
      if (!on && error.peek()?.field === 'style') error.value = null;
    });
  };

  /** The one-off run a recipe asks for: its own layers, its seed (or new ones for variations), its size. */
  const recipeRun = (recipe: HistoryEntry['recipe'], action: RecipeAction): RunOptions => {
    const seeds = action === 'variations'
      ? Array.from({ length: Math.max(VARIATIONS, settings.value.batchCount) }, () => Math.floor(random() * 0x100000000))
      : [recipe.seed];
    const ids = recipe.mode === 'inpaint' ? [...recipe.sourceNodeIds, ...(recipe.maskNodeIds ?? [])] : [...recipe.sourceNodeIds];
    return { seeds, sourceNodeIds: ids, ...(recipe.mode === 'generate' ? { size: { width: recipe.width, height: recipe.height } } : {}) };
  };

  /**
   * History Re-run / Vary and the relaunch buttons: load the recipe and run it at once on its original layers. When
   * its model is not downloaded yet, the run waits (the message sits at the model control) and starts once it is.
   */
  const rerunAsync = async (recipe: HistoryEntry['recipe'], action: RecipeAction): Promise<void> => {
    loadRecipe(recipe, action);
    await startOrWaitAsync(recipeRun(recipe, action), action === 'variations' ? 'the variations' : 'the re-run');
  };

  const startOrWaitAsync = async (options: RunOptions, label: string): Promise<void> => {
    const m = model.value;
    if (m && m.status !== 'ready') {
      pendingRun.value = { options, label };
      showError(new AppError('MODEL_NOT_READY', `${m.name} is not downloaded yet; ${label} starts as soon as it is.`, {
        hint: `Download it (${formatBytes(m.totalBytes)}) from here or in Models.`,
      }), 'model');
      if (headless.peek()) {
        headless.value = false;
        bridge.send({ type: 'window', requestId: newRequestId('w'), action: 'show' });
      }
      return;
    }
    pendingRun.value = null;
    await generateAsync(options);
  };

  const applyInit = (msg: Extract<PluginToUi, { type: 'init' }>): void => {
    batch(() => {
      pluginVersion.value = msg.pluginVersion;
      theme.value = msg.theme;
      selection.value = msg.selection;
      settings.value = parseSettings(msg.settings);
      lastSaved = JSON.stringify(serializeSettings(settings.value));
      const st = settings.value.style;
      const thumb = st.ref?.thumbnail ? base64ToBytes(st.ref.thumbnail) : null;
      styleEnabled.value = st.enabled;
      styleStrength.value = st.strength;
      styleRef.value = st.ref ? { nodeId: st.ref.nodeId, name: st.ref.name, ...(thumb ? { thumbnail: thumb } : {}) } : null;
      styleMissing.value = null;
      mode.value = chooseMode(msg.selection, null);
      if (msg.launch?.mode && msg.selection.availableModes.includes(msg.launch.mode)) mode.value = msg.launch.mode;
      if (msg.launch?.prompt) {
        settings.value = { ...settings.value, prompt: msg.launch.prompt };
        mode.value = 'generate';
      }
      headless.value = msg.launch?.headless === true;
      if (msg.launch?.problem) showError(AppError.fromData(msg.launch.problem));
      if (msg.relaunch) loadRecipe(msg.relaunch.recipe, msg.relaunch.action);
      ready.value = true;
    });
  };

  /** After init and the model list: a relaunch button or a quick action runs at once (or waits for its model). */
  const startLaunchRunAsync = async (msg: Extract<PluginToUi, { type: 'init' }>): Promise<void> => {
    if (msg.relaunch) {
      await startOrWaitAsync(recipeRun(msg.relaunch.recipe, msg.relaunch.action), msg.relaunch.action === 'variations' ? 'the variations' : 'the re-run');
    } else if (msg.launch?.prompt) {
      await startOrWaitAsync({}, 'the image');
      if (headless.peek()) {
        const failed = error.peek();
        bridge.send({ type: 'window', requestId: newRequestId('w'), action: failed ? 'show' : 'close', ...(failed ? {} : { message: notice.peek()?.slice(0, 200) ?? 'Done.' }) });
        headless.value = false;
      }
    }
  };

  /** Forgets the previous job's footer: its outcome notice, "Show on canvas" and a tab's explanation. */
  const clearLastJob = (): void => {
    batch(() => {
      notice.value = null;
      lastInserted.value = [];
      tabHelp.value = null;
    });
  };

  /** Whether `sel` is exactly the layers the last run inserted (the plugin selects them when it is done). */
  const isLastResults = (sel: SelectionInfo): boolean => {
    const ids = lastInserted.peek();
    return ids.length > 0 && sel.nodes.length === ids.length && sel.nodes.every((n) => ids.includes(n.id));
  };

  const handleMessage = (msg: PluginToUi): void => {
    switch (msg.type) {
      case 'init': applyInit(msg); break;
      case 'selection-changed':
        batch(() => {
          selection.value = msg.selection;
          if (!run.peek()) {
            mode.value = chooseMode(msg.selection, mode.peek());
            // The last job's outcome and errors about the old selection no longer apply — unless this is the plugin
            // selecting that job's own results (Figma reports it after the insert), which is the outcome itself.
            if (!isLastResults(msg.selection)) {
              clearLastJob();
              if (error.peek()?.field !== 'model') error.value = null;
            }
          }
        });
        break;
      case 'theme': theme.value = msg.theme; break;
      case 'error': showError(AppError.fromData(msg.error)); break;
      default: break;
    }
  };

  const refreshModelsAsync = async (): Promise<void> => {
    try {
      const list = await engine.listModelsAsync();
      // Keep live progress of downloads this UI started (the engine's list may lag behind).
      const live = new Map(models.peek().filter((m) => m.status === 'downloading').map((m) => [m.id, m]));
      models.value = list.map((m) => (m.status === 'downloading' && live.has(m.id) ? { ...m, progress: live.get(m.id)?.progress ?? m.progress } : m));
    } catch (err) {
      showError(err);
    } finally {
      modelsLoaded.value = true;
    }
  };

  /**
   * Points the engine at a server (null = forget it) and runs its health check; its models then join the list.
   * Returns the error to show next to the server form, or null.
   */
  const connectServerAsync = async (config: ServerSettings | null): Promise<ErrorData | null> => {
    const configure = engine.configureServerAsync;
    if (!configure) return { code: 'INVALID_INPUT', message: 'This build cannot use a server.' };
    update({ server: config, ...(config ? {} : { engine: 'local' as const }) });
    serverError.value = null;
    serverHealth.value = null;
    serverState.value = config ? 'connecting' : 'none';
    try {
      const health = await configure.call(engine, config ? { kind: config.kind, url: config.url, ...(config.token ? { token: config.token } : {}) } : null);
      serverHealth.value = health;
      serverState.value = health ? 'connected' : 'none';
      await refreshModelsAsync();
      return null;
    } catch (err) {
      const e = withHint(toAppError(err).toData());
      serverError.value = e;
      serverState.value = 'failed';
      await refreshModelsAsync();
      return e;
    }
  };

  /** The picker beside Generate: run on this device or on the connected server. */
  const setEngine = (next: 'local' | 'server'): void => {
    if (next === 'server' && serverState.value !== 'connected') {
      batch(() => {
        view.value = 'models';
        notice.value = settings.value.server ? 'The server is not connected: check it in Models → Server.' : 'Connect a ComfyUI server first (Models → Server).';
      });
      return;
    }
    update({ engine: next });
  };

  const refreshStorageAsync = async (): Promise<void> => {
    try {
      storage.value = await engine.storageAsync();
    } catch {
      storage.value = null;
    }
  };

  const patchModel = (id: string, patch: Partial<ModelEntry>): void => {
    models.value = models.value.map((m) => (m.id === id ? { ...m, ...patch } : m));
  };

  const downloadAsync = async (id: string, opts: { confirmed?: boolean } = {}): Promise<void> => {
    const m = models.value.find((x) => x.id === id);
    if (!m || m.status === 'downloading') return;
    if (!m.licence.commercial_use && !opts.confirmed) {
      pendingLicence.value = id;
      return;
    }
    pendingLicence.value = null;
    patchModel(id, { status: 'downloading', progress: { bytes: 0, total: m.totalBytes, rate: 0 } });
    try {
      await engine.downloadModelAsync(id, (p) => patchModel(id, { status: 'downloading', progress: p }));
      patchModel(id, { status: 'ready', progress: undefined });
      adoptReadyModel(id);
    } catch (err) {
      const e = toAppError(err);
      // Pause/Cancel is not a failure: the engine reports the model as paused with what is kept.
      if (e.code !== 'CANCELLED') patchModel(id, { status: 'failed', error: withHint(e.toData()), progress: undefined });
    }
    await Promise.all([refreshModelsAsync(), refreshStorageAsync()]);
  };

  /**
   * A model just became ready: modes whose chosen model is not downloaded switch to it (no stale "not downloaded"
   * message), and a run waiting for a model starts.
   */
  const adoptReadyModel = (id: string): void => {
    const m = models.peek().find((x) => x.id === id);
    if (!m) return;
    const next = { ...settings.peek().modelByMode };
    for (const md of MODES) {
      const chosen = pickModel(models.peek(), md, next[md]);
      if (modelSupportsMode(m, md) && chosen && chosen.status !== 'ready') next[md] = id;
    }
    batch(() => {
      update({ modelByMode: next });
      if (error.peek()?.field === 'model') error.value = null;
    });
    const waiting = pendingRun.peek();
    if (waiting && model.peek()?.status === 'ready' && !run.peek()) {
      pendingRun.value = null;
      void generateAsync(waiting.options);
    }
  };

  /** Pause or Cancel a running download: the network stops at once, what was downloaded is kept for Resume. */
  const stopDownloadAsync = async (id: string, how: 'pause' | 'cancel'): Promise<void> => {
    const stop = how === 'pause' ? engine.pauseDownloadAsync : engine.cancelDownloadAsync;
    if (!stop) return;
    try {
      await stop.call(engine, id);
    } finally {
      await Promise.all([refreshModelsAsync(), refreshStorageAsync()]);
    }
  };

  const loadFromFilesAsync = async (id: string, files: readonly File[]): Promise<void> => {
    const load = engine.loadModelFromFilesAsync;
    if (!load) return;
    patchModel(id, { status: 'downloading', progress: { bytes: 0, total: 0, rate: 0 } });
    try {
      await load.call(engine, id, files, (p) => patchModel(id, { status: 'downloading', progress: p }));
      patchModel(id, { status: 'ready', progress: undefined });
      adoptReadyModel(id);
    } catch (err) {
      patchModel(id, { status: 'failed', error: withHint(toAppError(err).toData()), progress: undefined });
    }
    await refreshModelsAsync();
  };

  /**
   * Adds a model from a manifest URL or pasted manifest JSON. Returns null on success, else the error to show
   * next to the field (the form keeps the text so it can be fixed).
   */
  const addCustomModelAsync = async (input: string): Promise<ErrorData | null> => {
    const add = engine.addCustomModelAsync;
    const text = input.trim();
    if (!add) return null;
    if (text.length === 0) return { code: 'INVALID_INPUT', message: 'Paste a manifest URL or the manifest JSON.' };
    let arg: string | object = text;
    if (text.startsWith('{')) {
      try {
        arg = JSON.parse(text) as object;
      } catch (err) {
        return { code: 'INVALID_INPUT', message: `That is not valid JSON (${err instanceof Error ? err.message : 'parse error'}).`, hint: 'Paste the whole manifest file, or its https:// URL.' };
      }
    } else if (!/^https?:\/\/\S+$/.test(text)) {
      return { code: 'INVALID_INPUT', message: `"${text.slice(0, 60)}" is not a URL or JSON.`, hint: 'Paste an https:// link to a model manifest (.json), or the JSON itself.' };
    }
    try {
      const entry = await add.call(engine, arg);
      await refreshModelsAsync();
      notice.value = `Added ${entry.name}.`;
      return null;
    } catch (err) {
      return withHint(toAppError(err).toData());
    }
  };

  const deleteModelAsync = async (id: string): Promise<void> => {
    try {
      await engine.deleteModelAsync(id);
    } catch (err) {
      showError(err);
    }
    await Promise.all([refreshModelsAsync(), refreshStorageAsync()]);
  };

  const refreshHistoryAsync = async (): Promise<void> => {
    historyState.value = 'loading';
    try {
      const reply = await bridge.requestAsync({ type: 'get-history', requestId: newRequestId('h') }, 30_000);
      if (reply.type === 'history') history.value = reply.entries;
    } catch (err) {
      showError(err);
    } finally {
      historyState.value = 'loaded';
    }
  };

  const focusNode = (nodeId: string): void => {
    bridge.send({ type: 'focus-node', requestId: newRequestId('f'), nodeId });
  };

  let controller: AbortController | null = null;

  const cancel = (): void => {
    // Not while the result is being written: that step is short and cannot stop half-way (Cancel is not offered).
    if (!controller || !run.value || run.value.phase === 'inserting') return;
    run.value = { ...run.value, cancelling: true };
    controller.abort();
  };

  /** The form as the job sees it, or an AppError explaining what is missing. */
  const currentJobForm = (): JobForm => {
    if (mode.value === 'boost') {
      // The bundled upscaler: no model to pick or download, no prompt.
      const p = params.value;
      const r = boostRefine.value ? refineModel.value : null;
      if (boostRefine.value && !r) {
        throw new AppError('MODEL_NOT_READY', 'Refining needs a downloaded model that can edit images.', { hint: 'Download one in Models, or turn “Refine” off.' });
      }
      const rp = r ? effectiveParams(r, settings.value.paramsByModel[r.id]) : null;
      const { prompt, negativePrompt } = finalPrompts.value;
      return {
        mode: 'boost', modelId: `esrgan-slim-x${boostScale.value}`, prompt: r ? prompt : '', negativePrompt: r ? negativePrompt : '',
        steps: rp?.steps ?? 1, guidance: rp?.guidance ?? 0,
        strength: r ? boostRefineStrength.value : p.strength, maskFeather: settings.value.maskFeather, controlType: controlType.value, controlScale: p.controlScale,
        upscale: boostScale.value,
        ...(r ? { refineModelId: r.id } : {}),
      };
    }
    const m = model.value;
    if (!m) {
      throw new AppError('MODEL_NOT_READY', `No model in the list can do ${mode.value === 'wireframe' ? 'Wireframe → mockup' : mode.value}.`, {
        hint: 'Open Models to see which models are available.',
      });
    }
    if (m.status !== 'ready') {
      throw new AppError('MODEL_NOT_READY', `${m.name} is not downloaded yet.`, { hint: `Open Models and download it (${formatBytes(m.totalBytes)}).` });
    }
    const { prompt, negativePrompt } = finalPrompts.value;
    if ((mode.value === 'generate' || mode.value === 'wireframe') && isBlankPrompt(prompt)) {
      throw new AppError('INVALID_INPUT', 'The prompt is empty.', { hint: 'Describe the image you want, e.g. "a cabin in the mountains at dusk".' });
    }
    const p = params.value;
    return {
      mode: mode.value,
      modelId: m.id,
      prompt,
      negativePrompt,
      steps: p.steps,
      guidance: p.guidance,
      strength: p.strength,
      maskFeather: settings.value.maskFeather,
      controlType: controlType.value,
      controlScale: p.controlScale,
      ...(fullResolutionOn.value ? { fullResolution: { strength: FULL_RESOLUTION_STRENGTH } } : {}),
      ...(styleActive.value && styleRef.value ? { styleNodeId: styleRef.value.nodeId, styleStrength: styleStrength.value } : {}),
    };
  };

  /**
   * Style reference preconditions, before anything runs: a server that can apply one (its health check names what it
   * lacks) and a chosen reference. Every message names the style reference, so it shows at that control.
   */
  const checkStyle = (): void => {
    if (!styleActive.value) return;
    const health = serverHealth.value;
    const host = (() => { try { return health ? new URL(health.url).host : 'The server'; } catch { return 'The server'; } })();
    if (!health || serverState.value !== 'connected') {
      throw new AppError('SERVER_UNREACHABLE', 'Style reference needs a connected server, and none is connected.', {
        hint: 'Connect one in Models → Server — or turn Style reference off.',
      });
    }
    if (!health.modes.style.ready) {
      throw new AppError('MODEL_NOT_READY', `${host} can't apply a style reference: it needs ${health.modes.style.missing.join(', ')}.`, {
        hint: 'Install them on the server, press Check again in Models → Server — or turn Style reference off.',
      });
    }
    const missing = styleMissing.value;
    if (!styleRef.value && missing) {
      throw new AppError('SOURCE_CHANGED', styleMissingMessage(missing.name), { hint: STYLE_MISSING_HINT });
    }
    if (!styleRef.value) {
      throw new AppError('INVALID_INPUT', 'No style reference is chosen yet.', {
        hint: 'Select the image whose look you want and press “Use selection” under Style reference — or turn it off.',
      });
    }
  };

  /** Every precondition a run needs, checked before any model runs; throws the error for the control to change. */
  const checkPreconditions = (options: RunOptions): JobForm => {
    checkStyle(); // first: with no server connected, that (not the empty model list) is what to fix
    const form = currentJobForm();
    if (options.sourceNodeIds) return form; // the plugin finds the recipe's layers by id and checks them
    const sel = selection.value;
    const avail = sel?.availableModes;
    if (avail && !avail.includes(mode.value)) {
      throw new AppError('INVALID_SELECTION', sel?.problem ?? `The selection can't be used for ${MODE_NAME[mode.value]}.`, { hint: modeAvailability(sel, mode.value).reason ?? 'Change the selection or pick another mode.' });
    }
    if (settings.value.target === 'replace-fill' && (!sel || !sel.source)) {
      throw new AppError('INVALID_SELECTION', '“Fill of the selection” needs a selected layer, and nothing is selected.', {
        hint: 'Select a frame or shape, or set “Insert as” to “New layer”.',
      });
    }
    return form;
  };

  const generateAsync = async (options: RunOptions = {}): Promise<void> => {
    if (run.value) return;
    // A new attempt: the previous job's outcome ("Inserted…", "Cancelled.") and hints no longer apply — whatever
    // happens next (a precondition message at its control, or this run's progress) is the one message shown.
    clearLastJob();
    let form: JobForm;
    try {
      form = checkPreconditions(options);
    } catch (err) {
      batch(() => {
        relaunchNote.value = null; // "Running the recipe again…" is not true: the message at the control says why
        showError(err);
      });
      return;
    }
    // Boost runs the bundled upscaler: there may be no diffusion model at all.
    const m = model.value as ModelEntry | undefined;
    const boosting = form.mode === 'boost';
    const planned = boosting
      ? { seeds: [settings.value.seed], nextSeed: settings.value.seed }
      : planSeeds(settings.value.seedPolicy, settings.value.seed, settings.value.batchCount, random);
    const plan = options.seeds && options.seeds.length > 0 && !boosting ? { seeds: [...options.seeds], nextSeed: settings.value.seed } : planned;
    const jobStart = now();
    let shownEta: { seconds: number; at: number } | null = null;
    const jobId = newRequestId('job');
    const ctl = new AbortController();
    controller = ctl;
    /** Cancels every image of this run still waiting or running in the engine (user cancel, an error, the end). */
    const batchCtl = new AbortController();
    ctl.signal.addEventListener('abort', () => batchCtl.abort(), { once: true });
    const onServer = !boosting && (m?.engine ?? 'local') !== 'local';
    const target = settings.value.target;
    const inserted: string[] = [];
    let insertedCount = 0;
    let lastResultSize: string | undefined;
    batch(() => {
      error.value = null;
      notice.value = null;
      relaunchNote.value = null;
      preview.value = null;
      lastSeeds.value = plan.seeds;
      lastInserted.value = [];
      pendingRun.value = null;
      if (plan.nextSeed !== settings.value.seed) update({ seed: plan.nextSeed });
      run.value = { jobId, phase: 'preparing', batchIndex: 0, batchCount: plan.seeds.length, step: 0, total: form.steps, stage: null, cancelling: false };
    });
    try {
      const reply = await abortable(bridge.requestAsync({
        type: 'prepare-job',
        requestId: newRequestId('p'),
        mode: form.mode,
        size: boosting ? BOOST_SIZE_REQUEST : workingSizeRequest(m as ModelEntry),
        // Generate: the chosen size; "Match selection" sends none, so the plugin follows the layer's own aspect.
        ...(form.mode === 'generate' && (options.size || !matchSelection.value) ? { generateSize: options.size ?? generateSize.value } : {}),
        ...(boosting ? { boostScale: form.upscale ?? 2 } : { target }),
        ...(options.sourceNodeIds ? { sourceNodeIds: [...options.sourceNodeIds] } : {}),
        ...(form.styleNodeId ? { styleNodeId: form.styleNodeId } : {}),
      }), ctl.signal);
      if (reply.type !== 'job-inputs') throw new AppError('INVALID_MESSAGE', `The plugin answered "${reply.type}" instead of the job's inputs.`, { hint: 'Close and reopen the plugin.' });
      const job = prepareJob(reply, form, deps.raster);
      const notes = [...reply.notes];
      const full = job.request.fullResolution;
      if (form.fullResolution && !full) notes.push('Full resolution was not needed: the model’s size already gives the layer twice its pixels.');
      // Full resolution: the refine pass's share of each image's time, so progress and ETA cover the whole run.
      const refineShare = full && m
        ? fullResolutionCost({ working: { width: reply.width, height: reply.height }, target: full, steps: form.steps, strength: full.strength, tiling: refineTiling(m.sizes) }).refineShare
        : 0;
      /** SwarmUI: which backend (GPU) served each image. */
      const backends: string[] = [];
      // On a server the batch is a queue of prompts: all are queued at once (SwarmUI spreads them over its GPUs) and
      // inserted in order; progress follows the image to be inserted next. Locally, one image after the other.
      let currentIndex = 0;
      const startImage = (i: number): Promise<GenerateResult> => {
        const seed = plan.seeds[i] as number;
        let firstStepAt = 0;
        let firstStep = 0;
        return engine.generateAsync({ ...job.request, seed }, {
          signal: batchCtl.signal,
          onProgress: (p) => {
            const cur = run.peek();
            if (!cur || cur.jobId !== jobId || i !== currentIndex) return;
            let eta = cur.etaSeconds;
            const imageShare = p.stage === 'refine'
              ? (1 - refineShare) + refineShare * (p.step / Math.max(1, p.total))
              : (1 - refineShare) * (p.step / Math.max(1, p.total));
            if ((p.stage === 'denoise' || p.stage === 'refine') && p.step > 0) {
              if (p.stage === 'denoise') {
                if (firstStepAt === 0) { firstStepAt = now(); firstStep = p.step; }
                const done = p.step - firstStep;
                const stepMs = done > 0 ? (now() - firstStepAt) / done : 0;
                if (stepMs > 0 && !full) stepMsByModel.set(form.modelId, stepMs);
              }
              // Batch-wide and never going up: share of the whole batch done vs. the time it took.
              const t = now();
              const share = (i + imageShare) / plan.seeds.length;
              const next = batchEta({ elapsedMs: t - jobStart, done: share, ...(shownEta ? { previous: { seconds: shownEta.seconds, sinceMs: t - shownEta.at } } : {}) });
              if (next !== undefined) { eta = next; shownEta = { seconds: next, at: t }; }
            }
            batch(() => {
              run.value = {
                ...cur, step: p.step, total: p.total, stage: p.stage, ...(eta === undefined ? {} : { etaSeconds: eta }),
                ...(full ? { imageShare } : {}),
                ...(p.queuePosition === undefined ? {} : { queuePosition: p.queuePosition }),
              };
              if (p.preview) preview.value = p.preview;
            });
          },
        });
      };
      const queued = onServer && plan.seeds.length > 1 ? plan.seeds.map((_, i) => startImage(i)) : null;
      for (const q of queued ?? []) q.catch(() => undefined); // awaited in order below; later failures are not lost
      for (let i = 0; i < plan.seeds.length; i++) {
        currentIndex = i;
        const knownStepMs = stepMsByModel.get(form.modelId);
        const firstEta = knownStepMs !== undefined && i === 0 ? (form.steps * plan.seeds.length * knownStepMs) / 1000 : undefined;
        if (firstEta !== undefined) shownEta = { seconds: firstEta, at: now() };
        run.value = { ...(run.value as RunState), phase: 'generating', batchIndex: i, step: 0, stage: null, ...(firstEta === undefined ? {} : { etaSeconds: firstEta }) };
        const imageStart = now();
        const result = await abortable(queued ? queued[i] as Promise<GenerateResult> : startImage(i), ctl.signal);
        lastResultPng.value = result.png;
        imageSeconds.value = { ...imageSeconds.value, [form.modelId]: (now() - imageStart) / 1000 };
        lastResultSize = `${result.width}×${result.height} px`;
        if (result.provenance?.backend) backends.push(`image ${i + 1}: ${result.provenance.backend}`);
        if (result.droppedTokens > 0 && i === 0) notice.value = `${result.droppedTokens} prompt token${result.droppedTokens === 1 ? ' was' : 's were'} beyond the 77-token limit and ignored.`;
        run.value = { ...(run.value as RunState), phase: 'inserting' };
        const recipe = makeRecipe(job, form, {
          seed: result.seed, batchIndex: i, batchCount: plan.seeds.length, pluginVersion: pluginVersion.value, createdAt: new Date().toISOString(),
          ...(result.provenance ? { provenance: result.provenance } : {}),
          ...(result.reproduce ? { reproduce: result.reproduce } : {}),
        });
        const ack = await bridge.requestAsync({
          type: 'insert-result', requestId: newRequestId('i'), jobId, png: result.png, width: result.width, height: result.height,
          // Full resolution: the image is exactly the part that shows in the layer (the canvas is the image itself).
          placement: boosting ? scalePlacement(reply.placement, form.upscale ?? 2)
            : full ? { ...reply.placement, content: { x: 0, y: 0, width: full.width, height: full.height } }
            : reply.placement,
          recipe, target, batchIndex: i, batchCount: plan.seeds.length,
        }, 60_000);
        // Only the plugin's insert-done for this job counts as inserted (an ack or another job's reply does not).
        if (ack.type !== 'insert-done' || ack.jobId !== jobId) {
          throw new AppError('INVALID_MESSAGE', `The plugin did not confirm the insert (it answered "${ack.type}"${ack.type === 'insert-done' ? ` for another job, ${ack.jobId}` : ''}); the image may not be in the document.`, {
            hint: 'Check the canvas; if the image is missing, generate again.',
          });
        }
        insertedCount++;
        inserted.push(...ack.nodeIds);
        lastInserted.value = [...inserted];
        notes.push(...ack.notes);
      }
      const n = plan.seeds.length;
      const summary = (boosting ? `Inserted the ×${form.upscale ?? 2} image (${lastResultSize ?? ''}).` : `Inserted ${n === 1 ? `the ${full ? 'full-resolution ' : ''}image` : `${n} ${full ? 'full-resolution ' : ''}images`}${full ? `, ${lastResultSize ?? ''}` : ''} (seed ${plan.seeds.length === 1 ? plan.seeds[0] : `${plan.seeds[0]}–${plan.seeds[n - 1]}`}).`)
        + (backends.length > 0 ? ` Served by ${backends.join(', ')}.` : '');
      notice.value = [notice.value, summary, ...notes].filter(Boolean).join(' ');
      void refreshHistoryAsync();
    } catch (err) {
      const e = toAppError(err);
      if (e.code === 'CANCELLED' || ctl.signal.aborted) {
        notice.value = insertedCount > 0 ? `Cancelled — ${insertedCount} of ${plan.seeds.length} images were inserted.` : 'Cancelled.';
        if (insertedCount > 0) void refreshHistoryAsync();
      } else {
        showError(e);
      }
    } finally {
      if (onServer) batchCtl.abort(); // nothing of this run stays queued on the server
      if (controller === ctl) controller = null;
      run.value = null;
    }
  };

  /** Connects to the plugin and the engine. Returns the disposer. */
  const startAsync = async (): Promise<void> => {
    disposers.push(bridge.on(handleMessage));
    const modelsP = refreshModelsAsync();
    const capsP = engine.capabilitiesAsync().then((c) => { capabilities.value = c; }, (err: unknown) => showError(err));
    const storageP = refreshStorageAsync();
    let init: Extract<PluginToUi, { type: 'init' }> | null = null;
    try {
      const reply = await bridge.requestAsync({ type: 'ui-ready', requestId: newRequestId('u') }, 30_000);
      if (reply.type === 'init') { applyInit(reply); init = reply; }
    } catch (err) {
      showError(err);
    }
    await Promise.all([modelsP, capsP, storageP]);
    // A server the user configured earlier is checked again (nothing is contacted when none is configured).
    const saved = settings.peek().server;
    if (saved && engine.configureServerAsync) await connectServerAsync(saved);
    // The remembered style reference is looked up by id before anything runs (a relaunch re-reads its recipe's own).
    if (init && !init.relaunch) await checkRememberedStyleAsync();
    if (init) await startLaunchRunAsync(init);
  };

  /** The corner handle: figma.ui.resize through the plugin, which remembers the size (clientStorage). */
  const resizeWindow = (width: number, height: number): void => {
    bridge.send({ type: 'resize', requestId: newRequestId('rs'), width, height });
  };

  /** "Open Models" from a message: the Models view, scrolled to that model's card. */
  const openModels = (id?: string): void => {
    batch(() => {
      modelFocus.value = id ?? null;
      view.value = 'models';
    });
  };

  /** Why a mode tab is off, shown in words under the tabs when clicked (not only in its tooltip). */
  const explainMode = (m: Mode): void => {
    tabHelp.value = modeAvailability(selection.value, m).reason ?? null;
  };

  const dispose = (): void => {
    if (ready.peek()) flushSave();
    if (tokenTimer !== undefined) clearTimeout(tokenTimer);
    controller?.abort();
    for (const d of disposers.splice(0)) d();
  };

  const readonlyState = {
    ready, pluginVersion, theme, figmaTheme, bootTheme, effectiveTheme, selection, mode, settings, models, modelsLoaded, capabilities, storage, view, tokens,
    run, preview, lastResultPng, lastInserted, lastSeeds, error, notice, history, historyState, pendingLicence, relaunchNote,
    serverHealth, serverState, serverError, engineModels, capableModels, model, params, controlType, generateSize, hintLine, finalPrompts, running,
    matchSelection, matchSize, modelFocus, imageSeconds, pendingRun, headless, tabHelp,
    boostScale, boostRefine, boostRefineStrength, refineModel, fullResolutionPlan, fullResolutionOn,
    styleEnabled, styleRef, styleStrength, stylePicking, styleAvailability, styleActive, styleMissing,
  } satisfies Record<string, ReadonlySignal<unknown>>;

  return {
    ...readonlyState,
    uiMode: env.uiMode,
    canLoadFromFiles: typeof engine.loadModelFromFilesAsync === 'function',
    canAddCustomModel: typeof engine.addCustomModelAsync === 'function',
    startAsync, dispose, update, setTheme, setParam, resetParams, setModel, setMode, generateAsync, cancel, refreshModelsAsync,
    refreshStorageAsync, refreshHistoryAsync, focusNode, loadRecipe, rerunAsync, openModels, explainMode, resizeWindow, downloadAsync, stopDownloadAsync,
    loadFromFilesAsync, deleteModelAsync, addCustomModelAsync, flushSave, connectServerAsync, setEngine, pickStyleAsync, clearStyle, setStyleEnabled,
    canUseServer: typeof engine.configureServerAsync === 'function',
  };
}
