/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * The plugin's main-thread program: opens the UI, validates every message from it, and answers. Takes the
 * `figma` object as a parameter so tests drive it against a fake (plugin/code.ts passes the real globals).
 *
 * Messages are handled one at a time, in arrival order (a serial promise chain), so document writes never
 * interleave. In hosted mode a message whose origin is not the hosted app's is dropped with a warning; in both
 * modes a malformed or unknown message is refused with a warning, and answered with an INVALID_MESSAGE error naming
 * the field when it carries a usable requestId (every request gets exactly one reply).
 * Undo: one generation (all images of one jobId) = one undo step — `figma.commitUndo()` after its last image, or
 * when a new generation starts / an insert fails after part of a batch was written.
 */
import { AppError, toAppError } from '../protocol/errors';
import { newRequestId, parseUiToPlugin, refusalError, refusalTarget, type Mode, type PluginToUi, type UiToPlugin } from '../protocol/messages';
import { listHistoryAsync, readRecipe } from './history';
import { insertResultAsync, layerName, type BatchRow } from './insert-result';
import { prepareJobAsync, type SourceSnapshot } from './prepare-job';
import { exportStyleAsync, pickStyleAsync } from './style-reference';
import { pageOf, planSelection } from './selection-plan';
import { loadSettingsAsync, saveSettingsAsync, themeFrom } from './settings';

export interface PluginConfig {
  readonly uiMode: 'inline' | 'hosted';
  /** Origin of the hosted UI (e.g. 'http://localhost:8788'); messages from any other origin are dropped in hosted mode. */
  readonly hostedOrigin: string;
  readonly version: string;
  /** The UI document (`__html__`; in hosted mode the build makes it a bootstrap that redirects). */
  readonly html: string;
  /** Warnings for dropped messages (default console.warn). */
  readonly warn?: (text: string) => void;
}

export interface PluginHandle {
  /** Resolves once every message received so far has been handled (for tests). */
  idleAsync(): Promise<void>;
  /** Stops listening (selection events, UI messages). */
  dispose(): void;
}

export const UI_SIZE = { width: 360, height: 640 } as const;
/** clientStorage key of the window size the user resized the panel to. */
export const WINDOW_SIZE_KEY = 'window-size';
const RELAUNCH_COMMANDS = ['regenerate', 'variations'] as const;
/** manifest.json menu commands: each opens the panel on that mode. */
export const MENU_MODES = ['generate', 'edit', 'inpaint', 'wireframe'] as const;
type RelaunchAction = (typeof RELAUNCH_COMMANDS)[number];
type Relaunch = NonNullable<Extract<PluginToUi, { type: 'init' }>['relaunch']>;
type Launch = NonNullable<Extract<PluginToUi, { type: 'init' }>['launch']>;

/** A stored window size, kept inside what the `resize` message allows; null when absent or malformed. */
export function windowSizeFrom(v: unknown): { width: number; height: number } | null {
  if (!v || typeof v !== 'object') return null;
  const { width, height } = v as { width?: unknown; height?: unknown };
  if (typeof width !== 'number' || typeof height !== 'number' || !Number.isFinite(width) || !Number.isFinite(height)) return null;
  return { width: Math.round(Math.min(1200, Math.max(240, width))), height: Math.round(Math.min(1600, Math.max(200, height))) };
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s);
const errorData = (err: AppError): { code: AppError['code']; message: string; hint?: string } => {
  const d = err.toData();
  return d.hint === undefined ? { code: d.code, message: clip(d.message, 2000) } : { code: d.code, message: clip(d.message, 2000), hint: clip(d.hint, 2000) };
};

/** Opens the UI and wires the protocol. */
export function startPlugin(figma: PluginAPI, config: PluginConfig): PluginHandle {
  const warn = config.warn ?? ((text: string) => console.warn(text));
  const hosted = config.uiMode === 'hosted';
  const snapshots = new Map<string, SourceSnapshot>();
  /** The generation whose images are written but not yet committed as one undo step. */
  let openJob: string | null = null;
  let chain: Promise<void> = Promise.resolve();
  let disposed = false;

  const post = (msg: PluginToUi): void => {
    if (disposed) return;
    if (hosted) figma.ui.postMessage(msg, { origin: config.hostedOrigin });
    else figma.ui.postMessage(msg);
  };
  const postError = (requestId: string, err: unknown): AppError => {
    const e = toAppError(err);
    post({ type: 'error', requestId, error: errorData(e) });
    return e;
  };
  const selectionInfo = () => planSelection(figma.currentPage.selection).info;

  // How this run started (figma.on('run') fires on every launch: menu, relaunch button, quick action with its
  // parameters). Relaunch buttons: the result layer's recipe goes to the UI, and the layers it was made from are
  // selected again (so Regenerate reads the original source, not the previous result); the UI then runs at once.
  let relaunch: Relaunch | undefined;
  let launch: Launch | undefined;
  let visible = true;
  let started = false;
  const onRun = (ev: RunEvent): void => {
    if (started || disposed) return;
    started = true;
    const command = ev.command ?? figma.command;
    const prompt = ev.parameters && typeof ev.parameters.prompt === 'string' ? ev.parameters.prompt.trim().slice(0, 4000) : '';
    if ((RELAUNCH_COMMANDS as readonly string[]).includes(command)) {
      const node = figma.currentPage.selection[0];
      const recipe = node ? readRecipe(node) : null;
      if (node && recipe) {
        relaunch = { action: command as RelaunchAction, nodeId: node.id, recipe };
      } else {
        // Told in the panel (which opens now), not as a toast as well: one message, where the user looks.
        launch = {
          problem: {
            code: 'INVALID_SELECTION',
            message: 'The selected layer has no generation recipe to rerun.',
            hint: 'Select an image this plugin made, or make a new one here.',
          },
        };
      }
    } else if ((MENU_MODES as readonly string[]).includes(command)) {
      launch = { mode: command as Mode };
    }
    if (prompt) {
      // Quick action "Generate image…": run without a window; the UI shows itself when it needs the user.
      launch = { mode: 'generate', prompt, headless: true };
      visible = false;
    }
    figma.showUI(config.html, { width: UI_SIZE.width, height: UI_SIZE.height, themeColors: true, title: 'Local Diffusion', visible });
  };
  figma.on('run', onRun);

  const reselectSourcesAsync = async (): Promise<void> => {
    if (!relaunch || relaunch.recipe.mode === 'generate') return;
    const ids = [...relaunch.recipe.sourceNodeIds, ...(relaunch.recipe.maskNodeIds ?? [])];
    const nodes: SceneNode[] = [];
    for (const id of ids) {
      const n = await figma.getNodeByIdAsync(id);
      if (n && !n.removed && n.type !== 'PAGE' && n.type !== 'DOCUMENT' && pageOf(n) === figma.currentPage) nodes.push(n as SceneNode);
    }
    if (nodes.length === relaunch.recipe.sourceNodeIds.length + (relaunch.recipe.maskNodeIds?.length ?? 0)) figma.currentPage.selection = nodes;
  };
  /** The window size the user left it at (clientStorage), applied when the UI is ready. */
  const restoreWindowSizeAsync = async (): Promise<void> => {
    const saved = await figma.clientStorage.getAsync(WINDOW_SIZE_KEY).catch(() => undefined) as { width?: unknown; height?: unknown } | undefined;
    const size = windowSizeFrom(saved);
    if (size && (size.width !== UI_SIZE.width || size.height !== UI_SIZE.height)) figma.ui.resize(size.width, size.height);
  };
  /** Result nodes of the generation in progress, selected together and scrolled into view after its last image. */
  const jobNodes = new Map<string, string[]>();
  /** Each generation's row on the canvas (a batch lines up side by side). */
  const jobRows = new Map<string, BatchRow>();

  const handleAsync = async (msg: UiToPlugin): Promise<void> => {
    switch (msg.type) {
      case 'ui-ready': {
        await restoreWindowSizeAsync().catch((err) => warn(`Could not restore the window size: ${toAppError(err).message}`));
        await reselectSourcesAsync().catch((err) => warn(`Could not reselect the recipe's layers: ${toAppError(err).message}`));
        const settings = await loadSettingsAsync(figma);
        post({
          type: 'init', requestId: msg.requestId, pluginVersion: clip(config.version, 40), theme: themeFrom(settings),
          selection: selectionInfo(), settings, ...(relaunch ? { relaunch } : {}), ...(launch ? { launch } : {}),
        });
        return;
      }
      case 'prepare-job': {
        try {
          if (msg.sourceNodeIds) figma.currentPage.selection = await recipeNodesAsync(figma, msg.sourceNodeIds);
          const plan = planSelection(figma.currentPage.selection);
          const { reply, snapshot } = await prepareJobAsync(figma, msg, plan);
          if (msg.styleNodeId && msg.mode !== 'boost') reply.style = await exportStyleAsync(figma, msg.styleNodeId);
          if (snapshot) snapshots.set(snapshot.nodeId, snapshot);
          post({ ...reply, notes: reply.notes.map((n) => clip(n, 500)) });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      }
      case 'pick-style':
        try {
          post({ type: 'style-picked', requestId: msg.requestId, ...(await pickStyleAsync(figma, msg.nodeId)) });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      case 'insert-result': {
        if (openJob !== null && openJob !== msg.jobId) {
          figma.commitUndo(); // the previous generation ended early (cancelled): keep it its own undo step
          jobNodes.delete(openJob);
          jobRows.delete(openJob);
          openJob = null;
        }
        try {
          checkPlacement(msg.placement);
          const sourceId = msg.placement.sourceNodeId;
          let row = jobRows.get(msg.jobId);
          if (!row) { row = {}; jobRows.set(msg.jobId, row); }
          const outcome = await insertResultAsync(figma, msg, sourceId ? snapshots.get(sourceId) : undefined, row);
          openJob = msg.jobId;
          const last = msg.batchIndex === msg.batchCount - 1;
          // Results are selected (the whole generation so far) and, after the last one, scrolled into view.
          const mine = [...(jobNodes.get(msg.jobId) ?? []), ...outcome.nodeIds];
          jobNodes.set(msg.jobId, mine);
          await selectResultsAsync(figma, mine, last);
          if (last) {
            figma.commitUndo();
            openJob = null;
            jobNodes.delete(msg.jobId);
            jobRows.delete(msg.jobId);
            // A toast points at the canvas while the panel is open; a hidden (quick action) run says it when it closes.
            const name = clip(layerName(msg.recipe.prompt), 40);
            if (visible) figma.notify(msg.batchCount > 1 ? `Inserted ${msg.batchCount} images of “${name}”.` : `Inserted “${name}”.`);
          }
          post({ type: 'insert-done', requestId: msg.requestId, jobId: msg.jobId, nodeIds: outcome.nodeIds, notes: outcome.notes.map((n) => clip(n, 500)) });
        } catch (err) {
          if (openJob === msg.jobId) {
            figma.commitUndo();
            openJob = null;
          }
          // The UI shows the error at the control that can fix it (and shows a hidden window to do so): no toast too.
          postError(msg.requestId, err);
        }
        return;
      }
      case 'notify':
        figma.notify(msg.message, msg.error ? { error: true } : undefined);
        post({ type: 'ack', requestId: msg.requestId });
        return;
      case 'save-settings':
        try {
          await saveSettingsAsync(figma, msg.settings);
          post({ type: 'ack', requestId: msg.requestId });
          if (hosted) post({ type: 'theme', requestId: newRequestId('t'), theme: themeFrom(msg.settings) });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      case 'get-history':
        try {
          post({ type: 'history', requestId: msg.requestId, entries: await listHistoryAsync(figma.currentPage) });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      case 'focus-node':
        try {
          await focusNodeAsync(figma, msg.nodeId);
          post({ type: 'ack', requestId: msg.requestId });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      case 'resize':
        figma.ui.resize(msg.width, msg.height);
        await figma.clientStorage.setAsync(WINDOW_SIZE_KEY, { width: msg.width, height: msg.height }).catch((err) => warn(`Could not save the window size: ${toAppError(err).message}`));
        post({ type: 'ack', requestId: msg.requestId });
        return;
      case 'window':
        post({ type: 'ack', requestId: msg.requestId });
        if (msg.action === 'show') {
          visible = true;
          figma.ui.show();
        } else {
          figma.closePlugin(msg.message);
        }
        return;
    }
  };

  figma.ui.onmessage = (data: unknown, props?: OnMessageProperties) => {
    if (disposed) return;
    if (hosted && props?.origin !== config.hostedOrigin) {
      warn(`Dropped a message from an unexpected origin: ${String(props?.origin)} (expected ${config.hostedOrigin}).`);
      return;
    }
    const parsed = parseUiToPlugin(data);
    if (!parsed.ok) {
      warn(`Dropped a malformed message: ${parsed.reason}`);
      // Every request is answered: one the plugin refuses gets an error naming the field, in arrival order, so the
      // UI never waits for a reply that will not come. (Only a message without a usable requestId goes unanswered.)
      const target = refusalTarget(data);
      if (target) {
        chain = chain
          .then(() => post({ type: 'error', requestId: target.requestId, error: refusalError(target.label, parsed.reason, 'plugin') }))
          .catch((err) => warn(`Could not answer a refused message: ${toAppError(err).message}`));
      }
      return;
    }
    const msg = parsed.message;
    chain = chain.then(() => handleAsync(msg)).catch((err) => {
      // handleAsync answers its own errors; this catches a failure outside them (figma.notify, ui.resize, settings
      // storage throwing) and still answers the request.
      warn(`Failed to handle "${msg.type}": ${toAppError(err).message}`);
      try { postError(msg.requestId, err); } catch { /* the UI is gone */ }
    });
  };

  const onSelection = (): void => {
    post({ type: 'selection-changed', requestId: newRequestId('sel'), selection: selectionInfo() });
  };
  figma.on('selectionchange', onSelection);

  return {
    idleAsync: async () => {
      let seen: Promise<void>;
      do {
        seen = chain;
        await seen;
      } while (seen !== chain);
    },
    dispose: () => {
      disposed = true;
      figma.off('selectionchange', onSelection);
      figma.off('run', onRun);
      figma.ui.onmessage = undefined;
    },
  };
}

/** Farthest a result may be placed from the canvas origin, in px (Figma documents live well inside ±10 million). */
export const MAX_CANVAS_COORD = 10_000_000;
/** Largest on-canvas size of a result, in px (sources are at most 4096 px; a result may be scaled, never this far). */
export const MAX_PLACEMENT_SIDE = 100_000;

/** Refuses a placement no real job produces (x = 1e9, a 9e15 px wide layer) before anything is written. */
export function checkPlacement(p: Extract<UiToPlugin, { type: 'insert-result' }>['placement']): void {
  const bad = (what: string, value: number, limit: string): never => {
    throw new AppError('INVALID_INPUT', `The result's placement is out of bounds: ${what} is ${value}, but it must be ${limit}. Nothing was inserted.`, {
      hint: 'Generate again from the current selection; if it keeps happening, reopen the plugin.',
    });
  };
  for (const k of ['x', 'y'] as const) if (Math.abs(p[k]) > MAX_CANVAS_COORD) bad(k, p[k], 'within ±10,000,000 px');
  for (const k of ['width', 'height'] as const) if (p[k] > MAX_PLACEMENT_SIDE) bad(k, p[k], 'at most 100,000 px');
  const c = p.content;
  for (const k of ['x', 'y', 'width', 'height'] as const) {
    if (Math.abs(c[k]) > 16384) bad(`content.${k}`, c[k], 'within ±16,384 working px');
  }
}

/** Selects a node (switching to its page first) and scrolls it into view. Throws AppError INVALID_INPUT when gone. */
export async function focusNodeAsync(figma: PluginAPI, nodeId: string): Promise<void> {
  const node = await figma.getNodeByIdAsync(nodeId);
  if (!node || node.removed || node.type === 'PAGE' || node.type === 'DOCUMENT') {
    throw new AppError('INVALID_INPUT', `The layer ${nodeId} no longer exists; it may have been deleted.`, { hint: 'Refresh the history.' });
  }
  const page = pageOf(node);
  if (page && page !== figma.currentPage) await figma.setCurrentPageAsync(page);
  figma.currentPage.selection = [node as SceneNode];
  figma.viewport.scrollAndZoomIntoView([node]);
}

/**
 * The layers a recipe was made from, found by id (History Re-run/Vary, relaunch buttons). Throws SOURCE_CHANGED
 * naming what is gone, so nothing runs on the wrong layers.
 */
export async function recipeNodesAsync(figma: PluginAPI, ids: readonly string[]): Promise<SceneNode[]> {
  const nodes: SceneNode[] = [];
  for (const id of ids) {
    const n = await figma.getNodeByIdAsync(id);
    if (!n || n.removed || n.type === 'PAGE' || n.type === 'DOCUMENT') {
      throw new AppError('SOURCE_CHANGED', `The layer this image was made from (${id}) is no longer in the document, so it can't be run again on it.`, {
        hint: 'Select another layer and run it from the Create tab.',
      });
    }
    const page = pageOf(n);
    if (page !== figma.currentPage) {
      throw new AppError('SOURCE_CHANGED', `'${n.name}', the layer this image was made from, is on page '${page?.name ?? '?'}', not on the open page.`, {
        hint: 'Open that page and run it again.',
      });
    }
    nodes.push(n as SceneNode);
  }
  return nodes;
}

/** Selects a generation's results; after its last image also scrolls them into view. Missing ids are skipped. */
async function selectResultsAsync(figma: PluginAPI, ids: readonly string[], scroll: boolean): Promise<void> {
  const nodes: SceneNode[] = [];
  for (const id of ids) {
    const n = await figma.getNodeByIdAsync(id);
    if (n && !n.removed && n.type !== 'PAGE' && n.type !== 'DOCUMENT' && pageOf(n) === figma.currentPage) nodes.push(n as SceneNode);
  }
  if (nodes.length === 0) return;
  figma.currentPage.selection = nodes;
  if (scroll) figma.viewport.scrollAndZoomIntoView(nodes);
}
