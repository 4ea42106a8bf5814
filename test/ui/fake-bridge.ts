/**
 * An in-memory PluginBridge that plays the plugin's side of the protocol for UI tests: `init`, `job-inputs` (with a
 * synthetic source PNG, a mask path and outlines), `ack`/`insert-done`, `history` built from what was inserted,
 * `selection-changed` and `theme` on demand. Every message is validated with the real protocol validators, both ways.
 */
import { AppError } from '../../protocol/errors';
import {
  parsePluginToUi, parseUiToPlugin, type HistoryEntry, type PluginToUi, type Recipe, type SelectionInfo, type UiToPlugin,
} from '../../protocol/messages';
import { createImage, decodePng, encodePng, resizeBilinear } from '../../ui/core/image';
import type { PluginBridge } from '../../ui/app/env';
import { fitWorkingSize } from '../../ui/app/model-params';

export const SELECTIONS = {
  none: { proposedMode: 'generate', availableModes: ['generate'], nodes: [], hint: 'Nothing selected' },
  frame: {
    proposedMode: 'edit', availableModes: ['generate', 'edit', 'wireframe'],
    nodes: [{ id: '1:2', name: 'Hero', type: 'FRAME', width: 1440, height: 900 }], hint: "Frame 'Hero' 1440×900",
  },
  imageWithMask: {
    proposedMode: 'inpaint', availableModes: ['generate', 'edit', 'inpaint'],
    nodes: [{ id: '1:5', name: 'Photo', type: 'RECTANGLE', width: 800, height: 800 }, { id: '1:6', name: 'Mask', type: 'ELLIPSE', width: 200, height: 200 }],
    hint: "Image 'Photo' 800×800 + mask 'Mask'",
  },
  wireframe: {
    proposedMode: 'wireframe', availableModes: ['generate', 'edit', 'wireframe'],
    nodes: [{ id: '2:1', name: 'Login wireframe', type: 'FRAME', width: 390, height: 844 }], hint: "Frame 'Login wireframe' 390×844",
  },
  locked: {
    proposedMode: 'generate', availableModes: ['generate'],
    nodes: [{ id: '3:1', name: 'Locked', type: 'FRAME', width: 400, height: 300 }], hint: "Frame 'Locked' 400×300",
    problem: "'Locked' is locked — unlock it to edit it.",
  },
} satisfies Record<string, SelectionInfo>;

export interface FakeBridgeOptions {
  readonly selection?: SelectionInfo;
  readonly settings?: unknown;
  readonly theme?: 'light' | 'dark';
  readonly relaunch?: { action: 'regenerate' | 'variations'; nodeId: string; recipe: Recipe };
  /** How the plugin says it was started (menu command, quick action, a launch problem). */
  readonly launch?: NonNullable<Extract<PluginToUi, { type: 'init' }>['launch']>;
  readonly history?: HistoryEntry[];
  /** ms the fake plugin takes to answer. */
  readonly latencyMs?: number;
  /** When set, prepare-job answers this error. */
  readonly prepareError?: { code: 'INVALID_SELECTION'; message: string; hint?: string };
}

export interface FakeBridge extends PluginBridge {
  readonly sent: UiToPlugin[];
  readonly history: HistoryEntry[];
  selection: SelectionInfo;
  emit(msg: PluginToUi): void;
  setSelection(sel: SelectionInfo): void;
  setTheme(theme: 'light' | 'dark'): void;
  /** The last saved settings (from save-settings). */
  savedSettings: unknown;
  prepareError: FakeBridgeOptions['prepareError'];
}

/** A 2-colour source "photo" at w×h (top sky blue, bottom sand). */
function sourcePng(w: number, h: number): Uint8Array {
  const img = createImage(w, h, [90, 160, 220, 255]);
  for (let y = Math.floor(h / 2); y < h; y++) for (let x = 0; x < w; x++) img.data.set([220, 200, 150, 255], (y * w + x) * 4);
  return encodePng(img);
}

function thumbnail(png: Uint8Array): Uint8Array {
  const img = decodePng(png);
  const k = 96 / Math.max(img.width, img.height);
  return encodePng(resizeBilinear(img, Math.max(1, Math.round(img.width * k)), Math.max(1, Math.round(img.height * k))));
}

export function createFakeBridge(opts: FakeBridgeOptions = {}): FakeBridge {
  const handlers = new Set<(msg: PluginToUi) => void>();
  const sent: UiToPlugin[] = [];
  const history: HistoryEntry[] = [...(opts.history ?? [])];
  let nodeCounter = 100;
  const jobNodes = new Map<string, string[]>();
  const latency = opts.latencyMs ?? 2;

  const reply = (msg: UiToPlugin): PluginToUi | null => {
    switch (msg.type) {
      case 'ui-ready':
        return {
          type: 'init', requestId: msg.requestId, pluginVersion: '0.1.0', theme: opts.theme ?? 'light', selection: bridge.selection,
          settings: opts.settings ?? {}, ...(opts.relaunch ? { relaunch: opts.relaunch } : {}), ...(opts.launch ? { launch: opts.launch } : {}),
        };
      case 'prepare-job': {
        if (bridge.prepareError) return { type: 'error', requestId: msg.requestId, error: bridge.prepareError };
        const node = bridge.selection.nodes[0];
        const size = msg.mode === 'generate'
          ? (msg.generateSize ?? { width: 512, height: 512 })
          : fitWorkingSize(node?.width ?? 512, node?.height ?? 512, msg.size);
        const { width, height } = size;
        const cx = width / 2;
        const cy = height / 2;
        const r = Math.min(width, height) / 4;
        return {
          type: 'job-inputs', requestId: msg.requestId, mode: msg.mode, width, height,
          placement: { ...(node ? { sourceNodeId: node.id } : {}), x: 0, y: 0, width: node?.width ?? width, height: node?.height ?? height, content: { x: 0, y: 0, width, height } },
          ...(msg.mode === 'edit' || msg.mode === 'inpaint' ? { image: { png: sourcePng(width, height), width, height } } : {}),
          ...(msg.mode === 'inpaint' ? {
            mask: { paths: [{ d: `M${cx - r} ${cy}A${r} ${r} 0 1 0 ${cx + r} ${cy}A${r} ${r} 0 1 0 ${cx - r} ${cy}Z`, windingRule: 'NONZERO', kind: 'fill', nodeId: '1:6' }], nodeIds: ['1:6'] },
          } : {}),
          ...(msg.mode === 'wireframe' ? {
            outlines: {
              paths: [
                { d: `M16 16H${width - 16}V${height / 3}H16Z`, windingRule: 'NONZERO', kind: 'fill', nodeId: '2:2' },
                { d: `M32 ${height / 2}H${width - 32}V${height / 2 + 40}H32Z`, windingRule: 'NONZERO', kind: 'box', nodeId: '2:3' },
              ],
              nodeIds: ['2:2', '2:3'],
            },
          } : {}),
          ...(msg.styleNodeId ? { style: { png: encodePng(createImage(64, 48, [20, 200, 60, 255])), width: 64, height: 48, nodeId: msg.styleNodeId } } : {}),
          sourceNodeIds: node ? [node.id] : [],
          notes: [],
        };
      }
      case 'pick-style': {
        const picked = msg.nodeId ? { id: msg.nodeId, name: 'Reference' } : bridge.selection.nodes[0];
        if (!picked) return { type: 'error', requestId: msg.requestId, error: { code: 'INVALID_SELECTION', message: 'Select the image whose look you want as the style reference, then press “Use selection”.' } };
        return { type: 'style-picked', requestId: msg.requestId, nodeId: picked.id, name: picked.name, thumbnail: encodePng(createImage(32, 24, [20, 200, 60, 255])) };
      }
      case 'insert-result': {
        const id = `9:${nodeCounter++}`;
        const ids = jobNodes.get(msg.jobId) ?? [];
        ids.push(id);
        jobNodes.set(msg.jobId, ids);
        history.unshift({ nodeId: id, name: `Generated ${msg.recipe.prompt.slice(0, 20)}`, recipe: msg.recipe, thumbnail: thumbnail(msg.png) });
        // As the real plugin (plugin/start-plugin.ts): every image is confirmed with insert-done naming its own node.
        return { type: 'insert-done', requestId: msg.requestId, jobId: msg.jobId, nodeIds: [id], notes: [] };
      }
      case 'get-history':
        return { type: 'history', requestId: msg.requestId, entries: [...history] };
      case 'save-settings':
        bridge.savedSettings = msg.settings;
        return null;
      case 'notify':
      case 'focus-node':
      case 'resize':
      case 'window':
        return null;
    }
  };

  const deliver = (msg: PluginToUi): void => {
    const parsed = parsePluginToUi(msg);
    if (!parsed.ok) throw new Error(`fake plugin sent an invalid message: ${parsed.reason}`);
    for (const h of handlers) h(parsed.message);
  };

  const bridge: FakeBridge = {
    sent,
    history,
    selection: opts.selection ?? SELECTIONS.none,
    savedSettings: undefined,
    prepareError: opts.prepareError,
    send(msg) {
      const parsed = parseUiToPlugin(msg);
      if (!parsed.ok) throw new Error(`UI sent an invalid message: ${parsed.reason}`);
      sent.push(msg);
      const r = reply(msg);
      if (r) setTimeout(() => deliver(r), latency);
    },
    requestAsync(msg) {
      const parsed = parseUiToPlugin(msg);
      if (!parsed.ok) return Promise.reject(new Error(`UI sent an invalid message: ${parsed.reason}`));
      sent.push(msg);
      return new Promise((resolve, reject) => {
        setTimeout(() => {
          try {
            const r = reply(msg);
            if (!r) { reject(new Error(`fake plugin has no reply to ${msg.type}`)); return; }
            const p = parsePluginToUi(r);
            if (!p.ok) { reject(new Error(`fake plugin reply invalid: ${p.reason}`)); return; }
            if (p.message.type === 'error') reject(AppError.fromData(p.message.error));
            else resolve(p.message);
          } catch (err) {
            reject(err);
          }
        }, latency);
      });
    },
    on(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    dispose() { handlers.clear(); },
    emit: deliver,
    setSelection(sel) {
      bridge.selection = sel;
      deliver({ type: 'selection-changed', requestId: `sel-${Date.now()}`, selection: sel });
    },
    setTheme(theme) {
      deliver({ type: 'theme', requestId: `theme-${Date.now()}`, theme });
    },
  };
  return bridge;
}
