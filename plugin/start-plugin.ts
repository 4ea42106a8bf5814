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
import { newRequestId, parseUiToPlugin, refusalError, refusalTarget, type PluginToUi, type UiToPlugin } from '../protocol/messages';
import { listHistoryAsync, readRecipe } from './history';
import { insertResultAsync, layerName } from './insert-result';
import { prepareJobAsync, type SourceSnapshot } from './prepare-job';
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
const RELAUNCH_COMMANDS = ['regenerate', 'variations'] as const;
type RelaunchAction = (typeof RELAUNCH_COMMANDS)[number];
type Relaunch = NonNullable<Extract<PluginToUi, { type: 'init' }>['relaunch']>;

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

  figma.showUI(config.html, { width: UI_SIZE.width, height: UI_SIZE.height, themeColors: !hosted, title: 'Local Diffusion' });

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

  // Relaunch buttons: the result layer's recipe goes to the UI, and the layers it was made from are selected again
  // (so Regenerate reads the original source, not the previous result).
  let relaunch: Relaunch | undefined;
  if ((RELAUNCH_COMMANDS as readonly string[]).includes(figma.command)) {
    const node = figma.currentPage.selection[0];
    const recipe = node ? readRecipe(node) : null;
    if (node && recipe) {
      relaunch = { action: figma.command as RelaunchAction, nodeId: node.id, recipe };
    } else {
      figma.notify('The selected layer has no generation recipe to rerun.', { error: true });
    }
  }
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

  const handleAsync = async (msg: UiToPlugin): Promise<void> => {
    switch (msg.type) {
      case 'ui-ready': {
        await reselectSourcesAsync().catch((err) => warn(`Could not reselect the recipe's layers: ${toAppError(err).message}`));
        const settings = await loadSettingsAsync(figma);
        post({
          type: 'init', requestId: msg.requestId, pluginVersion: clip(config.version, 40), theme: themeFrom(settings),
          selection: selectionInfo(), settings, ...(relaunch ? { relaunch } : {}),
        });
        return;
      }
      case 'prepare-job': {
        try {
          const plan = planSelection(figma.currentPage.selection);
          const { reply, snapshot } = await prepareJobAsync(figma, msg, plan);
          if (snapshot) snapshots.set(snapshot.nodeId, snapshot);
          post({ ...reply, notes: reply.notes.map((n) => clip(n, 500)) });
        } catch (err) {
          postError(msg.requestId, err);
        }
        return;
      }
      case 'insert-result': {
        if (openJob !== null && openJob !== msg.jobId) {
          figma.commitUndo(); // the previous generation ended early (cancelled): keep it its own undo step
          openJob = null;
        }
        try {
          checkPlacement(msg.placement);
          const sourceId = msg.placement.sourceNodeId;
          const outcome = await insertResultAsync(figma, msg, sourceId ? snapshots.get(sourceId) : undefined);
          openJob = msg.jobId;
          const last = msg.batchIndex === msg.batchCount - 1;
          if (last) {
            figma.commitUndo();
            openJob = null;
            const name = clip(layerName(msg.recipe.prompt), 40);
            figma.notify(msg.batchCount > 1 ? `Inserted ${msg.batchCount} images of “${name}”.` : `Inserted “${name}”.`);
          }
          post({ type: 'insert-done', requestId: msg.requestId, jobId: msg.jobId, nodeIds: outcome.nodeIds, notes: outcome.notes.map((n) => clip(n, 500)) });
        } catch (err) {
          if (openJob === msg.jobId) {
            figma.commitUndo();
            openJob = null;
          }
          const e = postError(msg.requestId, err);
          figma.notify(clip(e.message, 100), { error: true });
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
        post({ type: 'ack', requestId: msg.requestId });
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
