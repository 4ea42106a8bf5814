/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * A hand-written fake of the Figma plugin API (the subset this plugin uses), faithful to @figma/plugin-typings
 * and to documented platform behaviour, plus a `host` side that plays the Figma editor: selection, relaunch,
 * the UI iframe's message envelope, rendering for the harness, and logs tests can assert on.
 * No Node imports: it runs in vitest and, bundled by esbuild, in the harness page.
 */
import type { RgbaImage } from '../../ui/core/image';
import { createClientStorage, usedBytes, type ClientStorageData } from './client-storage';
import {
  absoluteBoundingBoxOf, autoSizeText, newRecord, pageOf, recordMutation, renderBoundsOf, type Box, type DocState,
  type Mutation, type NodeRecord,
} from './document-model';
import { createImageStore, type ImageStore } from './image-store';
import { apiOf, groupRecords, insertRecord, recordOf, type NodeApiContext } from './node-api';
import { renderRecords } from './render-scene';

export interface FakeManifest {
  readonly id?: string;
  readonly documentAccess?: 'dynamic-page';
  readonly menu?: readonly { readonly command?: string; readonly name?: string }[];
  readonly relaunchButtons?: readonly { readonly command: string; readonly name: string; readonly multipleSelection?: boolean }[];
}

export interface FakeFigmaOptions {
  /** The plugin id messages from a hosted UI must carry (default: manifest.id or 'fake-plugin-id'). */
  readonly pluginId?: string;
  /** Default 'dynamic-page' (required for new plugins): getNodeById throws, other pages need loadAsync. */
  readonly documentAccess?: 'dynamic-page' | 'full';
  /** manifest.json contents; relaunchButtons restrict setRelaunchData commands and host.launch. */
  readonly manifest?: FakeManifest;
  /** Backing map for figma.clientStorage; pass the same map to a second fake to simulate a relaunch. */
  readonly clientStorage?: ClientStorageData;
  /** Editor viewport size in screen px (default 1440×900). */
  readonly viewportSize?: { readonly width: number; readonly height: number };
}

export interface FakeNotification {
  readonly message: string;
  readonly error: boolean;
  readonly timeout: number | undefined;
  readonly buttonText: string | undefined;
  cancelled: boolean;
}

export interface FakeUiState {
  readonly html: string;
  readonly options: ShowUIOptions;
  visible: boolean;
  width: number;
  height: number;
  closed: boolean;
}

export interface DroppedUiMessage {
  readonly message: unknown;
  readonly origin: string;
  readonly pluginId: string | undefined;
  readonly reason: 'no-ui' | 'plugin-id-mismatch' | 'hosted-ui-without-plugin-id' | 'unsupported-data' | 'plugin-closed';
}

export interface UndoStep {
  readonly mutations: readonly Mutation[];
}

export interface LaunchOptions {
  /** figma.command for this run ('' = plugin launched without a menu command). */
  readonly command?: string;
  /** Quick-action parameters delivered with the 'run' event. */
  readonly parameters?: ParameterValues;
  /** Relaunch button: the node(s) carrying relaunch data for `command`; they become the selection. */
  readonly nodeId?: string;
  readonly nodeIds?: readonly string[];
}

/** The editor side of the fake: what Figma does around the plugin, and logs for assertions. */
export interface FakeHost {
  readonly pluginId: string;
  /** Selects nodes by id on the current page (like a user click); emits 'selectionchange'. */
  select(ids: readonly string[]): void;
  /** Starts a plugin run: sets figma.command (+ selection for relaunch buttons) and emits 'run'. */
  launch(opts?: LaunchOptions): void;
  /** The current page rendered at 1× (page background included), for the harness canvas; cached per version. */
  renderPage(): RgbaImage;
  /** Page coordinates of renderPage()'s pixel (0, 0). */
  pageOrigin(): { x: number; y: number };
  /** Top-most node at page point (x, y), picked as Figma's click does (inside top-level frames); `deep` = leaf. */
  hitTest(x: number, y: number, opts?: { deep?: boolean }): string | null;
  /**
   * A message from the UI iframe (`parent.postMessage({pluginMessage, pluginId}, …)`) → figma.ui.onmessage /
   * ui.on('message') handlers with props {origin}. Dropped (returns false, logged in droppedUiMessages) when no
   * UI is open, when pluginId is neither '*' nor this plugin's id, or when a non-null-origin UI omits pluginId.
   */
  deliverUiMessage(message: unknown, opts?: { origin?: string; pluginId?: string }): boolean;
  /** Subscriptions; each returns an unsubscribe function. */
  onShowUI(cb: (html: string, options: ShowUIOptions) => void): () => void;
  /** Messages posted before the first subscriber are delivered to it (Figma queues them until the UI loads). */
  onPostToUi(cb: (message: unknown, options?: UIPostMessageOptions) => void): () => void;
  onNotify(cb: (message: string, options?: NotificationOptions) => void): () => void;
  /** Any document mutation (coalesced per microtask). */
  onChange(cb: () => void): () => void;
  /**
   * Waits until queued events and the plugin's handler promises have settled; rethrows the first new handler error.
   * Rejects if handlers are still pending after `timeoutMs` (default 10 s), e.g. one awaiting a UI reply.
   */
  settleAsync(opts?: { timeoutMs?: number }): Promise<void>;
  /** Clears the mutation log and undo history (call after building a fixture: "the saved document"). */
  markSaved(): void;
  /** Synchronous lookup for tests (null when missing or removed). */
  nodeById<T extends BaseNode = SceneNode>(id: string): T | null;
  readonly ui: FakeUiState | null;
  /** Every message the plugin posted to its UI, in order. */
  readonly uiMessages: readonly { readonly message: unknown; readonly options?: UIPostMessageOptions }[];
  readonly droppedUiMessages: readonly DroppedUiMessage[];
  readonly notifications: readonly FakeNotification[];
  /** Document mutations since markSaved(), in order. */
  readonly mutations: readonly Mutation[];
  /** Committed undo steps (each commitUndo() or closePlugin() closes the open step if it changed anything). */
  readonly undoHistory: readonly UndoStep[];
  /** = undoHistory.length. */
  readonly undoSteps: number;
  /** Mutations of the still-open undo step. */
  readonly pendingUndoMutations: readonly Mutation[];
  readonly commitUndoCalls: number;
  /** Errors thrown (or rejected) by plugin event / message handlers. */
  readonly errors: readonly unknown[];
  readonly closed: boolean;
  readonly closeMessage: string | undefined;
  readonly clientStorage: ClientStorageData;
  clientStorageBytes(): number;
  readonly images: ImageStore;
  /** Bumped on every document mutation. */
  readonly version: number;
}

type Listener = (...args: never[]) => unknown;

const FONTS: readonly FontName[] = [
  ...['Regular', 'Medium', 'Semi Bold', 'Bold', 'Italic'].map((style) => ({ family: 'Inter', style })),
  ...['Regular', 'Bold'].map((style) => ({ family: 'Roboto', style })),
];
const fontKey = (f: FontName): string => `${f.family}\u0000${f.style}`;

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function base64Encode(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const a = bytes[i]!, b = bytes[i + 1], c = bytes[i + 2];
    const n = (a << 16) | ((b ?? 0) << 8) | (c ?? 0);
    out += B64[(n >> 18) & 63]! + B64[(n >> 12) & 63]! + (b === undefined ? '=' : B64[(n >> 6) & 63]!) + (c === undefined ? '=' : B64[n & 63]!);
  }
  return out;
}

function base64Decode(s: string): Uint8Array {
  const clean = s.replace(/[\s=]/g, '');
  if (/[^A-Za-z0-9+/]/.test(clean)) throw new Error('in base64Decode: The string is not valid base64');
  const out = new Uint8Array(Math.floor((clean.length * 3) / 4));
  let bits = 0, acc = 0, o = 0;
  for (const ch of clean) {
    acc = (acc << 6) | B64.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  return out.subarray(0, o);
}

/** Checks that a message holds only what crosses Figma's UI boundary; returns a path to the first bad value. */
function findUnsupportedData(v: unknown, path = 'message', seen = new Set<unknown>()): string | null {
  if (v === null || v === undefined) return null;
  const t = typeof v;
  if (t === 'string' || t === 'number' || t === 'boolean') return null;
  if (t === 'bigint' || t === 'function' || t === 'symbol') return `${path} (${t})`;
  if (v instanceof Uint8Array || v instanceof Date) return null;
  if (ArrayBuffer.isView(v)) return `${path} (${Object.prototype.toString.call(v).slice(8, -1)}: only Uint8Array crosses)`;
  if (v instanceof ArrayBuffer) return `${path} (ArrayBuffer: only Uint8Array crosses)`;
  if (typeof Blob !== 'undefined' && v instanceof Blob) return `${path} (Blob)`;
  if (v instanceof Map || v instanceof Set) return `${path} (${v instanceof Map ? 'Map' : 'Set'})`;
  if (seen.has(v)) return null;
  seen.add(v);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findUnsupportedData(v[i], `${path}[${i}]`, seen);
      if (bad) return bad;
    }
    return null;
  }
  for (const [k, x] of Object.entries(v as object)) {
    const bad = findUnsupportedData(x, `${path}.${k}`, seen);
    if (bad) return bad;
  }
  return null;
}

/** Structured-clone-like copy of plain data (prototypes are lost, as across postMessage). */
function clonePlain(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return v.slice();
  if (v instanceof Date) return new Date(v.getTime());
  if (Array.isArray(v)) return v.map(clonePlain);
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = clonePlain(x);
  return out;
}

/**
 * Creates a fresh fake Figma with one empty page ("Page 1", the current page).
 * `figma` is typed as @figma/plugin-typings' PluginAPI; members the fake does not implement are absent (calling
 * one throws a TypeError), and some implemented ones throw "fake-figma: … is not implemented" for options it
 * cannot honour (e.g. exportAsync formats other than PNG).
 */
export function createFakeFigma(opts: FakeFigmaOptions = {}): { figma: PluginAPI; host: FakeHost } {
  const pluginId = opts.pluginId ?? opts.manifest?.id ?? 'fake-plugin-id';
  const documentAccess = opts.documentAccess ?? 'dynamic-page';
  const relaunchCommands = opts.manifest?.relaunchButtons ? new Set(opts.manifest.relaunchButtons.map((b) => b.command)) : undefined;
  const mixed: unique symbol = Symbol('figma.mixed') as never;
  const viewportSize = opts.viewportSize ?? { width: 1440, height: 900 };
  const storage: ClientStorageData = opts.clientStorage ?? new Map();

  // ---- document ---------------------------------------------------------------------------------------------
  const images = createImageStore();
  const nodes = new Map<string, NodeRecord>();
  const partial = { pluginId, documentAccess, images, nodes, nextId: 2, seq: 0, version: 0, mutations: [], openStep: [], undoHistory: [], loadedFonts: new Set<string>(), allPagesLoaded: documentAccess === 'full', onMutate: [] };
  const doc = partial as unknown as DocState;
  const root = newRecord(doc, 'DOCUMENT', 'Document', '0:0');
  (doc as { root: NodeRecord }).root = root;
  const page1 = newRecord(doc, 'PAGE', 'Page 1', '0:1');
  page1.parent = root;
  root.children!.push(page1);
  page1.backgrounds = Object.freeze([Object.freeze({ type: 'SOLID', visible: true, opacity: 1, blendMode: 'NORMAL', color: Object.freeze({ r: 0.9607843, g: 0.9607843, b: 0.9607843 }) })]) as ReadonlyArray<Paint>;
  doc.currentPage = page1;

  // ---- async bookkeeping ------------------------------------------------------------------------------------
  const pending = new Set<Promise<unknown>>();
  const errors: unknown[] = [];
  let reportedErrors = 0;
  let scheduled = 0;
  const track = (result: unknown): void => {
    if (result && typeof (result as Promise<unknown>).then === 'function') {
      const p = Promise.resolve(result).catch((err: unknown) => { errors.push(err); });
      pending.add(p);
      void p.finally(() => pending.delete(p));
    }
  };
  const callSafely = (f: Listener, args: unknown[]): void => {
    try {
      track((f as (...a: unknown[]) => unknown)(...args));
    } catch (err) {
      errors.push(err);
    }
  };
  const later = (f: () => void): void => {
    scheduled++;
    queueMicrotask(() => {
      scheduled--;
      f();
    });
  };

  // ---- events -----------------------------------------------------------------------------------------------
  const listeners = new Map<string, { f: Listener; once: boolean }[]>();
  const emit = (type: string, ...args: unknown[]): void => {
    const list = listeners.get(type) ?? [];
    listeners.set(type, list.filter((l) => !l.once));
    for (const l of list) callSafely(l.f, args);
  };
  let selectionScheduled = false;
  const ctx: NodeApiContext = {
    doc,
    mixed,
    relaunchCommands,
    selectionChanged(page) {
      if (page !== doc.currentPage || selectionScheduled) return;
      selectionScheduled = true;
      later(() => {
        selectionScheduled = false;
        emit('selectionchange');
      });
    },
  };

  const changeListeners = new Set<() => void>();
  let changeScheduled = false;
  let docChanges: DocumentChange[] = [];
  doc.onMutate.push((m) => {
    if (listeners.get('documentchange')?.length) {
      const rec = nodes.get(m.nodeId);
      const type = m.kind === 'create' ? 'CREATE' : m.kind === 'remove' ? 'DELETE' : 'PROPERTY_CHANGE';
      docChanges.push({ type, id: m.nodeId, origin: 'LOCAL', node: rec ? apiOf(ctx, rec) : { id: m.nodeId, removed: true }, properties: m.property ? [m.property] : [] } as unknown as DocumentChange);
    }
    if (changeScheduled) return;
    changeScheduled = true;
    later(() => {
      changeScheduled = false;
      for (const cb of changeListeners) cb();
      if (docChanges.length) {
        const documentChanges = docChanges;
        docChanges = [];
        emit('documentchange', { documentChanges });
      }
    });
  });

  // ---- run / launch -----------------------------------------------------------------------------------------
  let command = '';
  // A plugin's code only runs because it was launched: the first run's 'run' event (plain launch, command '')
  // is due as soon as a handler is registered; host.launch replaces it with a menu command / relaunch / parameters.
  let pendingRun: RunEvent | null = { command: '', parameters: undefined } as RunEvent;
  const fireRun = (): void => {
    if (!pendingRun || !listeners.get('run')?.length) return;
    const ev = pendingRun;
    pendingRun = null;
    emit('run', ev);
  };

  const on = (type: string, f: Listener, once = false): void => {
    if (typeof f !== 'function') throw new Error(`in on: Expected a callback function for "${type}"`);
    if (type === 'documentchange' && documentAccess === 'dynamic-page' && !doc.allPagesLoaded) {
      throw new Error('in on: Cannot register a "documentchange" handler with documentAccess: dynamic-page before calling `await figma.loadAllPagesAsync()`');
    }
    const list = listeners.get(type) ?? [];
    list.push({ f, once });
    listeners.set(type, list);
    if (type === 'run' && pendingRun) later(fireRun);
  };
  const off = (type: string, f: Listener): void => {
    listeners.set(type, (listeners.get(type) ?? []).filter((l) => l.f !== f));
  };

  // ---- UI ---------------------------------------------------------------------------------------------------
  let ui: FakeUiState | null = null;
  let closed = false;
  let closeMessage: string | undefined;
  let onmessage: MessageEventHandler | undefined;
  const messageListeners: { f: MessageEventHandler; once: boolean }[] = [];
  const uiMessages: { message: unknown; options?: UIPostMessageOptions }[] = [];
  const undelivered: { message: unknown; options?: UIPostMessageOptions }[] = [];
  const dropped: DroppedUiMessage[] = [];
  const showUiListeners = new Set<(html: string, options: ShowUIOptions) => void>();
  const postListeners = new Set<(message: unknown, options?: UIPostMessageOptions) => void>();
  const notifyListeners = new Set<(message: string, options?: NotificationOptions) => void>();
  const requireUi = (fn: string): FakeUiState => {
    if (!ui || ui.closed) throw new Error(`in ${fn}: No UI is open (call figma.showUI first)`);
    return ui;
  };
  const uiApi = {
    postMessage(message: unknown, options?: UIPostMessageOptions) {
      requireUi('postMessage');
      const bad = findUnsupportedData(message);
      if (bad) throw new Error(`in postMessage: Cannot send ${bad}; only plain data and Uint8Array cross to the UI`);
      const entry = options === undefined ? { message: clonePlain(message) } : { message: clonePlain(message), options: { ...options } };
      uiMessages.push(entry);
      if (postListeners.size === 0) undelivered.push(entry);
      else later(() => { for (const cb of postListeners) cb(clonePlain(entry.message), entry.options); });
    },
    get onmessage() { return onmessage; },
    set onmessage(f: MessageEventHandler | undefined) { onmessage = f; },
    on(type: 'message', f: MessageEventHandler) {
      if (type !== 'message') throw new Error(`in ui.on: Unknown event "${String(type)}" (only "message")`);
      messageListeners.push({ f, once: false });
    },
    once(type: 'message', f: MessageEventHandler) {
      if (type !== 'message') throw new Error(`in ui.once: Unknown event "${String(type)}" (only "message")`);
      messageListeners.push({ f, once: true });
    },
    off(type: 'message', f: MessageEventHandler) {
      const i = messageListeners.findIndex((l) => l.f === f);
      if (type === 'message' && i >= 0) messageListeners.splice(i, 1);
    },
    show() { requireUi('show').visible = true; },
    hide() { requireUi('hide').visible = false; },
    resize(width: number, height: number) {
      const u = requireUi('resize');
      if (!Number.isFinite(width) || !Number.isFinite(height) || width < 0 || height < 0) {
        throw new Error(`in resize: Expected finite non-negative width and height, got ${width}×${height}`);
      }
      u.width = Math.max(70, Math.round(width));
      u.height = Math.max(0, Math.round(height));
    },
    reposition() { requireUi('reposition'); },
    getPosition() { requireUi('getPosition'); return { windowSpace: { x: 0, y: 0 }, canvasSpace: { x: 0, y: 0 } }; },
    close() {
      if (ui) ui.closed = true;
    },
  };

  const notifications: FakeNotification[] = [];
  const notify = (message: string, options?: NotificationOptions): NotificationHandler => {
    if (typeof message !== 'string') throw new Error(`in notify: Expected message to be a string, got ${typeof message}`);
    const n: FakeNotification = { message, error: options?.error ?? false, timeout: options?.timeout, buttonText: options?.button?.text, cancelled: false };
    notifications.push(n);
    for (const cb of notifyListeners) cb(message, options);
    return { cancel: () => { n.cancelled = true; } };
  };

  let commitUndoCalls = 0;
  const commit = (): void => {
    if (doc.openStep.length) doc.undoHistory.push({ mutations: doc.openStep });
    doc.openStep = [];
  };

  // ---- viewport ---------------------------------------------------------------------------------------------
  let center = { x: viewportSize.width / 2, y: viewportSize.height / 2 };
  let zoom = 1;
  const viewport = {
    get center() { return { ...center }; },
    set center(v: Vector) {
      if (!Number.isFinite(v?.x) || !Number.isFinite(v?.y)) throw new Error('in set_center: Expected {x, y} finite numbers');
      center = { x: v.x, y: v.y };
    },
    get zoom() { return zoom; },
    set zoom(v: number) {
      if (!Number.isFinite(v) || v <= 0) throw new Error(`in set_zoom: Expected a positive number, got ${v}`);
      zoom = v;
    },
    get bounds() {
      const w = viewportSize.width / zoom, h = viewportSize.height / zoom;
      return { x: center.x - w / 2, y: center.y - h / 2, width: w, height: h };
    },
    scrollAndZoomIntoView(list: ReadonlyArray<BaseNode>) {
      let box: Box | null = null;
      for (const n of list) {
        const b = absoluteBoundingBoxOf(recordOf(ctx, n));
        box = box ? unionBox(box, b) : b;
      }
      if (!box) return;
      center = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
      zoom = Math.min(viewportSize.width / Math.max(1, box.width * 1.2), viewportSize.height / Math.max(1, box.height * 1.2));
    },
  };

  // ---- node creation ----------------------------------------------------------------------------------------
  const solid = (r: number, g: number, b: number): ReadonlyArray<Paint> =>
    Object.freeze([Object.freeze({ type: 'SOLID', visible: true, opacity: 1, blendMode: 'NORMAL', color: Object.freeze({ r, g, b }) })]) as ReadonlyArray<Paint>;
  const create = <T extends SceneNode>(type: NodeRecord['type'], name: string, init: (r: NodeRecord) => void): T => {
    const rec = newRecord(doc, type, name);
    init(rec);
    recordMutation(doc, 'create', rec);
    insertRecord(ctx, doc.currentPage, rec);
    return apiOf<T>(ctx, rec);
  };

  const getNodeRecord = (id: string): NodeRecord | null => {
    const rec = nodes.get(id);
    return rec && !rec.removed ? rec : null;
  };

  const figmaImpl = {
    apiVersion: '1.0.0',
    get command() { return command; },
    editorType: 'figma',
    mode: 'default',
    pluginId,
    fileKey: undefined,
    get skipInvisibleInstanceChildren() { return false; },
    set skipInvisibleInstanceChildren(_v: boolean) { /* no instances in the fake */ },
    mixed,
    currentUser: null,
    get root() { return apiOf(ctx, root); },
    get currentPage() { return apiOf(ctx, doc.currentPage); },
    set currentPage(_v: PageNode) {
      if (documentAccess === 'dynamic-page') {
        throw new Error('in set_currentPage: Cannot set currentPage with documentAccess: dynamic-page. Use `await figma.setCurrentPageAsync(page)` instead.');
      }
      doc.currentPage = recordOf(ctx, _v, 'page');
      emit('currentpagechange');
    },
    async setCurrentPageAsync(page: PageNode) {
      const rec = recordOf(ctx, page, 'page');
      if (rec.type !== 'PAGE') throw new Error('in setCurrentPageAsync: Expected a PageNode');
      rec.loaded = true;
      if (rec !== doc.currentPage) {
        doc.currentPage = rec;
        later(() => emit('currentpagechange'));
      }
    },
    async loadAllPagesAsync() {
      for (const p of root.children!) p.loaded = true;
      doc.allPagesLoaded = true;
    },
    async getNodeByIdAsync(id: string) {
      if (typeof id !== 'string') throw new Error(`in getNodeByIdAsync: Expected id to be a string, got ${typeof id}`);
      const rec = getNodeRecord(id);
      return rec ? apiOf(ctx, rec) : null;
    },
    getNodeById(id: string) {
      if (documentAccess === 'dynamic-page') {
        throw new Error('in getNodeById: Cannot call with documentAccess: dynamic-page. Use figma.getNodeByIdAsync instead.');
      }
      const rec = getNodeRecord(id);
      return rec ? apiOf(ctx, rec) : null;
    },
    on: (type: string, f: Listener) => on(type, f),
    once: (type: string, f: Listener) => on(type, f, true),
    off: (type: string, f: Listener) => off(type, f),
    showUI(html: string, options: ShowUIOptions = {}) {
      if (typeof html !== 'string') throw new Error(`in showUI: Expected html to be a string, got ${typeof html}`);
      ui = {
        html,
        options: { ...options },
        visible: options.visible ?? true,
        width: Math.max(70, options.width ?? 300),
        height: options.height ?? 200,
        closed: false,
      };
      for (const cb of showUiListeners) cb(html, ui.options);
    },
    ui: uiApi,
    notify,
    closePlugin(message?: string) {
      if (closed) return;
      if (message !== undefined) notify(message);
      closed = true;
      closeMessage = message;
      if (ui) ui.closed = true;
      emit('close');
      commit();
    },
    commitUndo() {
      commitUndoCalls++;
      commit();
    },
    triggerUndo() {
      throw new Error('fake-figma: triggerUndo is not implemented');
    },
    clientStorage: createClientStorage(storage),
    createImage(bytes: Uint8Array) {
      const img = images.add(bytes);
      return imageApi(images, img.hash);
    },
    async createImageAsync(src: string) {
      const m = /^data:image\/(png|jpeg|gif);base64,(.*)$/s.exec(src);
      if (!m) throw new Error(`fake-figma: createImageAsync only loads data: URLs (no network), got ${src.slice(0, 40)}`);
      const img = images.add(base64Decode(m[2]!));
      return imageApi(images, img.hash);
    },
    getImageByHash(hash: string) {
      return images.get(hash) ? imageApi(images, hash) : null;
    },
    createRectangle: () => create<RectangleNode>('RECTANGLE', 'Rectangle', (r) => {
      r.fills = solid(0.851, 0.851, 0.851);
      r.strokeAlign = 'INSIDE';
    }),
    createEllipse: () => create<EllipseNode>('ELLIPSE', 'Ellipse', (r) => {
      r.fills = solid(0.851, 0.851, 0.851);
      r.strokeAlign = 'INSIDE';
    }),
    createFrame: () => create<FrameNode>('FRAME', 'Frame', (r) => {
      r.fills = solid(1, 1, 1);
      r.clipsContent = true;
      r.strokeAlign = 'INSIDE';
    }),
    createVector: () => create<VectorNode>('VECTOR', 'Vector', (r) => {
      r.width = 0;
      r.height = 0;
      r.strokes = solid(0, 0, 0);
      r.strokeAlign = 'CENTER';
    }),
    createText: () => create<TextNode>('TEXT', '', (r) => {
      r.fills = solid(0, 0, 0);
      r.strokeAlign = 'OUTSIDE';
      autoSizeText(r);
    }),
    createSlice: () => create<SliceNode>('SLICE', 'Slice', () => undefined),
    createPage() {
      const rec = newRecord(doc, 'PAGE', `Page ${root.children!.length + 1}`);
      rec.backgrounds = page1.backgrounds;
      recordMutation(doc, 'create', rec);
      insertRecord(ctx, root, rec);
      return apiOf<PageNode>(ctx, rec);
    },
    group(list: ReadonlyArray<BaseNode>, parent: BaseNode & ChildrenMixin, index?: number) {
      if (!Array.isArray(list)) throw new Error('in group: First argument must be an array of nodes');
      const recs = list.map((n) => recordOf(ctx, n, 'group item'));
      const parentRec = recordOf(ctx, parent, 'parent');
      return apiOf<GroupNode>(ctx, groupRecords(ctx, recs, parentRec, index));
    },
    viewport,
    async loadFontAsync(font: FontName) {
      if (!font || typeof font.family !== 'string' || typeof font.style !== 'string') throw new Error('in loadFontAsync: Expected {family, style}');
      if (!FONTS.some((f) => fontKey(f) === fontKey(font))) throw new Error(`in loadFontAsync: The font "${font.family} ${font.style}" could not be loaded`);
      doc.loadedFonts.add(fontKey(font));
    },
    async listAvailableFontsAsync() {
      return FONTS.map((fontName) => ({ fontName: { ...fontName } }));
    },
    base64Encode,
    base64Decode,
  };
  const figma = figmaImpl as unknown as PluginAPI;

  // ---- host -------------------------------------------------------------------------------------------------
  let renderCache: { version: number; image: RgbaImage; origin: { x: number; y: number } } | null = null;
  const pageRegion = (): Box => {
    let box: Box | null = null;
    for (const k of doc.currentPage.children ?? []) {
      const b = renderBoundsOf(k);
      if (b) box = box ? unionBox(box, b) : b;
    }
    const pad = 40;
    if (!box) return { x: -pad, y: -pad, width: 2 * pad, height: 2 * pad };
    const x = Math.floor(Math.min(0, box.x) - pad), y = Math.floor(Math.min(0, box.y) - pad);
    return { x, y, width: Math.ceil(box.x + box.width + pad) - x, height: Math.ceil(box.y + box.height + pad) - y };
  };
  const renderPage = (): { image: RgbaImage; origin: { x: number; y: number } } => {
    const key = doc.version * 1000 + (root.children!.indexOf(doc.currentPage));
    if (renderCache && renderCache.version === key) return renderCache;
    const region = pageRegion();
    const bg = doc.currentPage.backgrounds.find((p): p is SolidPaint => p.type === 'SOLID' && p.visible !== false);
    const background = bg ? [bg.color.r * 255, bg.color.g * 255, bg.color.b * 255, 255] as const : [245, 245, 245, 255] as const;
    const image = renderRecords(doc, doc.currentPage.children ?? [], region, region.width, region.height, { background });
    renderCache = { version: key, image, origin: { x: region.x, y: region.y } };
    return renderCache;
  };

  const contains = (r: NodeRecord, x: number, y: number): boolean => {
    if (!r.visible) return false;
    if (r.type === 'GROUP') return (r.children ?? []).some((k) => !k.isMask && contains(k, x, y));
    const b = absoluteBoundingBoxOf(r);
    const slop = r.type === 'VECTOR' ? Math.max(2, r.strokeWeight / 2) : 0;
    if (x < b.x - slop || y < b.y - slop || x > b.x + b.width + slop || y > b.y + b.height + slop) return false;
    if (r.type === 'ELLIPSE' && b.width > 0 && b.height > 0) {
      const dx = (x - b.x - b.width / 2) / (b.width / 2), dy = (y - b.y - b.height / 2) / (b.height / 2);
      return dx * dx + dy * dy <= 1;
    }
    return true;
  };
  const topmost = (list: readonly NodeRecord[], x: number, y: number): NodeRecord | null => {
    for (let i = list.length - 1; i >= 0; i--) {
      const k = list[i]!;
      if (!k.isMask && contains(k, x, y)) return k;
    }
    return null;
  };
  const deepest = (r: NodeRecord, x: number, y: number): NodeRecord => {
    if (!r.children?.length) return r;
    const k = topmost(r.children, x, y);
    return k ? deepest(k, x, y) : r;
  };

  const host: FakeHost = {
    pluginId,
    select(ids) {
      const recs = ids.map((id) => {
        const rec = getNodeRecord(id);
        if (!rec) throw new Error(`host.select: no node with id ${id}`);
        if (pageOf(rec) !== doc.currentPage) throw new Error(`host.select: node ${id} is not on the current page`);
        return rec;
      });
      (figma.currentPage as { selection: readonly SceneNode[] }).selection = recs.map((r) => apiOf<SceneNode>(ctx, r));
    },
    launch(o = {}) {
      command = o.command ?? '';
      const ids = o.nodeIds ?? (o.nodeId !== undefined ? [o.nodeId] : []);
      if (ids.length) {
        if (relaunchCommands && !relaunchCommands.has(command)) throw new Error(`host.launch: "${command}" is not a relaunchButtons command in the manifest`);
        for (const id of ids) {
          const rec = getNodeRecord(id);
          if (!rec) throw new Error(`host.launch: no node with id ${id}`);
          if (!(command in rec.relaunchData)) throw new Error(`host.launch: node ${id} has no relaunch data for "${command}" (Figma would show no such button)`);
        }
        const page = pageOf(getNodeRecord(ids[0]!)!);
        if (page && page !== doc.currentPage) doc.currentPage = page;
        host.select(ids);
      }
      pendingRun = o.parameters === undefined ? { command } as RunEvent : { command, parameters: o.parameters } as RunEvent;
      setTimeout(fireRun, 0);
      scheduled++;
      setTimeout(() => { scheduled--; }, 0);
    },
    renderPage: () => renderPage().image,
    pageOrigin: () => ({ ...renderPage().origin }),
    hitTest(x, y, o = {}) {
      const top = topmost(doc.currentPage.children ?? [], x, y);
      if (!top) return null;
      if (o.deep) return deepest(top, x, y).id;
      if (top.type === 'FRAME') return (topmost(top.children ?? [], x, y) ?? top).id;
      return top.id;
    },
    deliverUiMessage(message, o = {}) {
      const origin = o.origin ?? 'null';
      const drop = (reason: DroppedUiMessage['reason']): false => {
        dropped.push({ message, origin, pluginId: o.pluginId, reason });
        return false;
      };
      if (closed) return drop('plugin-closed');
      if (!ui || ui.closed) return drop('no-ui');
      if (o.pluginId !== undefined && o.pluginId !== '*' && o.pluginId !== pluginId) return drop('plugin-id-mismatch');
      if (o.pluginId === undefined && origin !== 'null') return drop('hosted-ui-without-plugin-id');
      if (findUnsupportedData(message)) return drop('unsupported-data');
      const props: OnMessageProperties = { origin };
      const handlers: MessageEventHandler[] = [];
      if (onmessage) handlers.push(onmessage);
      for (const l of [...messageListeners]) {
        handlers.push(l.f);
        if (l.once) messageListeners.splice(messageListeners.indexOf(l), 1);
      }
      for (const h of handlers) callSafely(h as Listener, [clonePlain(message), props]);
      return true;
    },
    onShowUI(cb) {
      showUiListeners.add(cb);
      return () => showUiListeners.delete(cb);
    },
    onPostToUi(cb) {
      postListeners.add(cb);
      const queued = undelivered.splice(0);
      if (queued.length) later(() => { for (const e of queued) cb(clonePlain(e.message), e.options); });
      return () => postListeners.delete(cb);
    },
    onNotify(cb) {
      notifyListeners.add(cb);
      return () => notifyListeners.delete(cb);
    },
    onChange(cb) {
      changeListeners.add(cb);
      return () => changeListeners.delete(cb);
    },
    async settleAsync(o = {}) {
      const deadline = Date.now() + (o.timeoutMs ?? 10_000);
      for (;;) {
        await new Promise((r) => setTimeout(r, 0));
        if (pending.size === 0 && scheduled === 0) break;
        if (Date.now() > deadline) {
          throw new Error(`host.settleAsync: ${pending.size} plugin handler promise(s) still pending after ${o.timeoutMs ?? 10_000} ms`);
        }
        await Promise.race([Promise.all([...pending]), new Promise((r) => setTimeout(r, 20))]);
      }
      if (errors.length > reportedErrors) {
        const err = errors[reportedErrors];
        reportedErrors = errors.length;
        throw err;
      }
    },
    markSaved() {
      doc.mutations = [];
      doc.openStep = [];
      doc.undoHistory = [];
    },
    nodeById<T extends BaseNode = SceneNode>(id: string) {
      const rec = getNodeRecord(id);
      return rec ? apiOf<T>(ctx, rec) : null;
    },
    get ui() { return ui; },
    uiMessages,
    droppedUiMessages: dropped,
    notifications,
    get mutations() { return doc.mutations; },
    get undoHistory() { return doc.undoHistory; },
    get undoSteps() { return doc.undoHistory.length; },
    get pendingUndoMutations() { return doc.openStep; },
    get commitUndoCalls() { return commitUndoCalls; },
    errors,
    get closed() { return closed; },
    get closeMessage() { return closeMessage; },
    clientStorage: storage,
    clientStorageBytes: () => usedBytes(storage),
    images,
    get version() { return doc.version; },
  };
  hosts.set(figma, host);
  return { figma, host };
}

const hosts = new WeakMap<PluginAPI, FakeHost>();

/** The host of a fake `figma` object (undefined for anything else, e.g. the real Figma). */
export const hostOf = (figma: PluginAPI): FakeHost | undefined => hosts.get(figma);

function unionBox(a: Box, b: Box): Box {
  const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}

function imageApi(images: ImageStore, hash: string): Image {
  return Object.freeze({
    hash,
    async getBytesAsync() {
      const img = images.get(hash);
      if (!img) throw new Error(`in getBytesAsync: Image ${hash} does not exist`);
      return img.bytes.slice();
    },
    async getSizeAsync() {
      const img = images.get(hash);
      if (!img) throw new Error(`in getSizeAsync: Image ${hash} does not exist`);
      return { width: img.width, height: img.height };
    },
  });
}
