/**
 * The Figma-faithful harness page (served by `npm start` and driven by the browser tests).
 * - A simulated document (the hand-written fake Figma API) drawn on a canvas; click a layer or the canvas to select.
 * - The real built dist/<mode>/code.js runs against the fake, with `figma` and `__html__` as its globals.
 * - The real plugin UI runs in an iframe with Figma's envelopes: inline mode in `sandbox="allow-scripts"` (null
 *   origin); hosted mode via the build's bootstrap, which moves the iframe to the hosted app on another origin.
 * - UIs opened with `themeColors` get Figma's `figma-light` / `figma-dark` class and colour variables (a hosted UI's
 *   bootstrap document gets them too, before it redirects); the header's theme switch flips an inline UI live, as
 *   Figma does (`?theme=dark` starts dark).
 * - showUI's width/height and figma.ui.resize size the plugin window, as in Figma.
 * - Relaunch buttons: a selected result shows manifest.json's relaunch buttons (Regenerate / Variations); each run
 *   detaches the previous run's event handlers first, as Figma closes a running plugin before relaunching it.
 * URL parameters: mode=inline|hosted, theme=light|dark, autorun=0, command=<figma.command for the first run>.
 */
import { createFakeFigma, createDemoDocument } from '../fake-figma';
import manifest from '../../manifest.json';

type UiMode = 'inline' | 'hosted';

const params = new URLSearchParams(location.search);
const uiMode: UiMode = params.get('mode') === 'hosted' ? 'hosted' : 'inline';
const PLUGIN_ID = (document.querySelector('meta[name=plugin-id]')?.getAttribute('content')) ?? manifest.id;
type FigmaTheme = 'light' | 'dark';
let figmaTheme: FigmaTheme = params.get('theme') === 'dark' ? 'dark' : 'light';

const $ = <T extends HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};

const { figma, host } = createFakeFigma({ pluginId: PLUGIN_ID, manifest: { id: manifest.id, relaunchButtons: manifest.relaunchButtons } });
let iframe: HTMLIFrameElement | null = null;
const log: { dir: 'to-ui' | 'to-plugin'; type: string; at: number }[] = [];

function toast(text: string, error = false): void {
  const el = document.createElement('div');
  el.className = `toast${error ? ' error' : ''}`;
  el.textContent = text;
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 4000);
}

/** Canvas pixels per CSS pixel (the canvas is drawn at 1× and shown scaled to fit the stage). */
function canvasScale(canvas: HTMLCanvasElement): number {
  const r = canvas.getBoundingClientRect();
  return r.width > 0 ? canvas.width / r.width : 1;
}

/** What the last render() drew from: the fake's cached page image (a new object after any mutation) and the view. */
let drawn: { image: unknown; key: string } | null = null;

function render(): void {
  const img = host.renderPage();
  const canvas = $<HTMLCanvasElement>('#canvas');
  // The 1 s tick redraws only when something it shows changed: copying the whole page into the canvas and rebuilding
  // the layer list every second kept the page's main thread (which the inline UI shares) busy for nothing.
  const key = JSON.stringify([figma.viewport.bounds, figma.currentPage.selection.map((n) => n.id), canvasScale(canvas), figmaTheme]);
  if (drawn && drawn.image === img && drawn.key === key) {
    syncWindow();
    return;
  }
  drawn = { image: img, key };
  if (canvas.width !== img.width || canvas.height !== img.height) {
    canvas.width = img.width;
    canvas.height = img.height;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  const origin = host.pageOrigin?.() ?? { x: 0, y: 0 };
  const px = canvasScale(canvas); // keep outlines ~1–2 screen px wide whatever the zoom
  // The editor viewport figma.viewport describes (where Generate puts new images), dashed.
  const vb = figma.viewport.bounds;
  ctx.save();
  ctx.setLineDash([6 * px, 4 * px]);
  ctx.strokeStyle = 'rgba(120, 120, 120, 0.8)';
  ctx.lineWidth = px;
  ctx.strokeRect(vb.x - origin.x, vb.y - origin.y, vb.width, vb.height);
  ctx.restore();
  ctx.strokeStyle = '#0d99ff';
  ctx.lineWidth = 2 * px;
  for (const node of figma.currentPage.selection) {
    const b = node.absoluteBoundingBox;
    if (b) ctx.strokeRect(b.x - origin.x, b.y - origin.y, b.width, b.height);
  }
  renderLayers();
  renderRelaunchButtons();
  syncWindow();
}

const hasImage = (node: SceneNode): boolean =>
  'fills' in node && Array.isArray(node.fills) && (node.fills as readonly Paint[]).some((p) => p.type === 'IMAGE');

function layerIcon(node: SceneNode): string {
  if (node.type === 'TEXT') return 'T';
  if (node.type === 'FRAME') return '#';
  if (node.type === 'GROUP') return '▢';
  if ('isMask' in node && node.isMask) return '◐';
  if (hasImage(node)) return '▨';
  return '◇';
}

/** Figma's layer list: top-most first; containers are expanded down to the selected layers. */
function renderLayers(): void {
  const nav = $('#layers');
  const scroll = nav.scrollTop;
  nav.textContent = '';
  const selection = figma.currentPage.selection;
  const selected = new Set(selection.map((n) => n.id));
  const expanded = new Set<string>();
  for (const n of selection) for (let p: BaseNode | null = n.parent; p && p.type !== 'PAGE'; p = p.parent) expanded.add(p.id);
  let firstSelected: HTMLElement | null = null;
  const walk = (nodes: readonly SceneNode[], depth: number): void => {
    for (const node of [...nodes].reverse()) {
      const open = 'children' in node && node.children.length > 0 && expanded.has(node.id);
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `depth-${Math.min(depth, 4)}`;
      const twisty = 'children' in node && node.children.length > 0 ? (open ? '▾' : '▸') : ' ';
      b.textContent = `${twisty} ${layerIcon(node)} ${node.name}`;
      b.title = `${node.type.toLowerCase()} ${node.id}${node.getPluginData('recipe') ? ' (generated)' : ''}`;
      if (node.getPluginData('recipe')) b.classList.add('generated');
      b.dataset.nodeId = node.id;
      b.setAttribute('aria-pressed', String(selected.has(node.id)));
      b.addEventListener('click', (e) => {
        const ids = e.shiftKey ? [...selected, node.id] : [node.id];
        host.select(ids);
      });
      nav.append(b);
      if (!firstSelected && selected.has(node.id)) firstSelected = b;
      if (open) walk(node.children, depth + 1);
    }
  };
  walk(figma.currentPage.children, 0);
  nav.scrollTop = scroll;
  const key = selection.map((n) => n.id).join(',');
  if (firstSelected && key !== lastScrolledSelection) (firstSelected as HTMLElement).scrollIntoView({ block: 'nearest' });
  lastScrolledSelection = key;
}
let lastScrolledSelection = '';

/** Figma's relaunch buttons in the properties panel: one per relaunch command the selected layer carries. */
function renderRelaunchButtons(): void {
  const bar = $('#relaunch');
  bar.textContent = '';
  const selection = figma.currentPage.selection;
  if (selection.length !== 1) return;
  const node = selection[0]!;
  const data = node.getRelaunchData();
  for (const button of manifest.relaunchButtons) {
    if (!(button.command in data)) continue;
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = button.name;
    b.title = data[button.command] ?? '';
    b.dataset.command = button.command;
    b.addEventListener('click', () => void runPluginAsync(button.command, [node.id]));
    bar.append(b);
  }
}

/** Figma's theme variables for inline UIs opened with themeColors (a subset of what Figma injects). */
const FIGMA_THEME_CSS = `
:root.figma-light {
  --figma-color-bg: #ffffff; --figma-color-bg-secondary: #f5f5f5; --figma-color-bg-tertiary: #e6e6e6;
  --figma-color-bg-hover: #f5f5f5; --figma-color-bg-brand: #0d99ff; --figma-color-bg-brand-hover: #007be5;
  --figma-color-bg-selected: #e5f4ff; --figma-color-text: rgba(0, 0, 0, 0.9); --figma-color-text-secondary: rgba(0, 0, 0, 0.5);
  --figma-color-text-tertiary: rgba(0, 0, 0, 0.3); --figma-color-text-onbrand: #ffffff; --figma-color-text-brand: #007be5;
  --figma-color-border: #e6e6e6; --figma-color-border-selected: #0d99ff; --figma-color-icon: rgba(0, 0, 0, 0.9);
}
:root.figma-dark {
  --figma-color-bg: #2c2c2c; --figma-color-bg-secondary: #383838; --figma-color-bg-tertiary: #444444;
  --figma-color-bg-hover: #383838; --figma-color-bg-brand: #0c8ce9; --figma-color-bg-brand-hover: #0a6dc2;
  --figma-color-bg-selected: #4a5878; --figma-color-text: #ffffff; --figma-color-text-secondary: rgba(255, 255, 255, 0.7);
  --figma-color-text-tertiary: rgba(255, 255, 255, 0.4); --figma-color-text-onbrand: #ffffff; --figma-color-text-brand: #7cc4f8;
  --figma-color-border: #444444; --figma-color-border-selected: #0c8ce9; --figma-color-icon: #ffffff;
}`;

/**
 * What Figma adds to an inline UI opened with themeColors: the theme class on <html>, the colour variables, and (the
 * harness's stand-in for Figma switching it live) a listener that flips the class; that message never reaches the UI.
 */
function withFigmaTheme(html: string, theme: FigmaTheme): string {
  const inject = `<style id="figma-theme-vars">${FIGMA_THEME_CSS}</style><script>(function(){var c=document.documentElement.classList;` +
    `c.add('figma-${theme}');addEventListener('message',function(e){var t=e.data&&e.data.__harnessFigmaTheme;` +
    `if(t!=='light'&&t!=='dark')return;e.stopImmediatePropagation();c.remove('figma-light','figma-dark');c.add('figma-'+t);},true);})();</script>`;
  const head = /<head(\s[^>]*)?>/i.exec(html);
  if (head) return html.slice(0, head.index + head[0].length) + inject + html.slice(head.index + head[0].length);
  return inject + html;
}

function setFigmaTheme(theme: FigmaTheme): void {
  figmaTheme = theme;
  document.documentElement.dataset.theme = theme;
  if (uiMode === 'inline' && themeColors) iframe?.contentWindow?.postMessage({ __harnessFigmaTheme: theme }, '*');
}
let themeColors = false;
/** The inline UI document's blob: URL (revoked when the next run replaces it). */
let inlineUiUrl: string | null = null;

function showUi(html: string, options: ShowUIOptions): void {
  const frameHost = $('#frame-host');
  frameHost.textContent = '';
  iframe = document.createElement('iframe');
  iframe.title = 'Plugin UI';
  iframe.id = 'plugin-iframe';
  if (uiMode === 'inline') {
    // Figma's default UI: a null-origin document with no storage.
    iframe.setAttribute('sandbox', 'allow-scripts');
    themeColors = options.themeColors === true;
    // The document comes from a blob: URL, not `srcdoc`: the same null-origin sandboxed document (as Figma's data:
    // URL is), but a ~15 MB srcdoc attribute made every Playwright action inside the frame cost seconds (its element
    // preview of the <iframe> copies each attribute character by character), slowing the tests and the UI they drive.
    if (inlineUiUrl) URL.revokeObjectURL(inlineUiUrl);
    inlineUiUrl = URL.createObjectURL(new Blob([themeColors ? withFigmaTheme(html, figmaTheme) : html], { type: 'text/html;charset=utf-8' }));
    iframe.src = inlineUiUrl;
  } else {
    // Hosted: the bootstrap (a data: document, as Figma loads it) redirects to the app's real origin. With
    // themeColors Figma themes the bootstrap document too (the app itself, on its own origin, gets nothing).
    themeColors = options.themeColors === true;
    iframe.src = `data:text/html;charset=utf-8,${encodeURIComponent(themeColors ? withFigmaTheme(html, figmaTheme) : html)}`;
  }
  frameHost.append(iframe);
  $('#plugin-title').textContent = options.title ?? manifest.name;
  $('#plugin-mode').textContent = uiMode;
}

// Messages from the plugin UI iframe → the plugin's figma.ui.onmessage, with the envelope Figma uses.
window.addEventListener('message', (event) => {
  if (!iframe || event.source !== iframe.contentWindow) return;
  const data = event.data as { pluginMessage?: unknown; pluginId?: string } | null;
  if (!data || typeof data !== 'object' || !('pluginMessage' in data)) return;
  const type = (data.pluginMessage as { type?: string } | null)?.type ?? '?';
  log.push({ dir: 'to-plugin', type: String(type), at: performance.now() });
  host.deliverUiMessage(data.pluginMessage, { origin: event.origin, pluginId: data.pluginId });
});

host.onShowUI((html: string, options: ShowUIOptions) => { showUi(html, options); syncWindow(); });

/** The plugin window as Figma sizes it: showUI's width/height, then figma.ui.resize; hidden while `visible` is false. */
function syncWindow(): void {
  const ui = host.ui;
  const aside = $('#plugin');
  if (!ui || !iframe) return;
  aside.style.width = `${ui.width}px`;
  iframe.style.height = `${ui.height}px`;
  aside.dataset.visible = String(ui.visible && !ui.closed);
  aside.dataset.closed = String(ui.closed);
}
for (const fn of ['resize', 'show', 'hide', 'close'] as const) {
  const orig = (figma.ui[fn] as (...a: unknown[]) => unknown).bind(figma.ui);
  (figma.ui as unknown as Record<string, unknown>)[fn] = (...args: unknown[]) => { const r = orig(...args); syncWindow(); return r; };
}
host.onPostToUi((message: unknown, options?: { origin?: string }) => {
  const type = (message as { type?: string } | null)?.type ?? '?';
  log.push({ dir: 'to-ui', type: String(type), at: performance.now() });
  iframe?.contentWindow?.postMessage({ pluginMessage: message, pluginId: PLUGIN_ID }, options?.origin ?? '*');
});
host.onNotify?.((text: string, opts?: { error?: boolean }) => toast(text, opts?.error));
host.onChange?.(() => render());
figma.on('selectionchange', () => render());

/** Event handlers the current run registered on `figma`, removed before the next run starts. */
let runListeners: { type: string; f: (...args: never[]) => unknown }[] = [];

/**
 * The `figma` one run sees: the shared fake, with on/once recorded so the next run can detach them (Figma ends a
 * running plugin before it relaunches it; the fake has one plugin lifetime, so the harness does this part).
 */
function figmaForRun(): PluginAPI {
  const track = (type: string, f: (...args: never[]) => unknown): void => { runListeners.push({ type, f }); };
  return new Proxy(figma, {
    get(target, key, receiver) {
      if (key === 'on' || key === 'once') {
        return (type: string, f: (...args: never[]) => unknown) => {
          track(type, f);
          return (target[key] as (t: string, f: unknown) => void).call(target, type, f);
        };
      }
      return Reflect.get(target, key, receiver);
    },
  });
}

/**
 * Runs the built plugin: `command` is figma.command ('' plain launch; a manifest menu command; 'regenerate' /
 * 'variations' from a relaunch button, which also selects `nodeIds`, the layers carrying the relaunch data);
 * `parameters` are a quick action's values (e.g. { prompt }), delivered with the 'run' event.
 */
async function runPluginAsync(command = '', nodeIds?: readonly string[], parameters?: ParameterValues): Promise<void> {
  const [code, html] = await Promise.all([
    fetch(`/${uiMode}/code.js`).then((r) => r.text()),
    fetch(`/${uiMode}/ui.html`).then((r) => r.text()),
  ]);
  for (const l of runListeners) figma.off(l.type as 'selectionchange', l.f as () => void);
  runListeners = [];
  figma.ui.onmessage = undefined;
  host.launch?.({ command, ...(nodeIds && nodeIds.length ? { nodeIds } : {}), ...(parameters ? { parameters } : {}) });
  // Figma runs main-thread code with `figma` and `__html__` in scope.
  new Function('figma', '__html__', code)(figmaForRun(), html);
}

async function mainAsync(): Promise<void> {
  const ids = await createDemoDocument(figma);
  $<HTMLSelectElement>('#mode').value = uiMode;
  $<HTMLSelectElement>('#mode').addEventListener('change', (e) => {
    const next = (e.target as HTMLSelectElement).value;
    location.search = `?mode=${next}`;
  });
  $('#run').addEventListener('click', () => void runPluginAsync());
  $<HTMLSelectElement>('#figma-theme').value = figmaTheme;
  document.documentElement.dataset.theme = figmaTheme;
  $<HTMLSelectElement>('#figma-theme').addEventListener('change', (e) => setFigmaTheme((e.target as HTMLSelectElement).value === 'dark' ? 'dark' : 'light'));
  $('#canvas').addEventListener('click', (e) => {
    const canvas = e.currentTarget as HTMLCanvasElement;
    const r = canvas.getBoundingClientRect();
    const scale = canvasScale(canvas);
    const origin = host.pageOrigin?.() ?? { x: 0, y: 0 };
    const id = host.hitTest((e.clientX - r.left) * scale + origin.x, (e.clientY - r.top) * scale + origin.y);
    host.select(id ? [id] : []);
  });
  window.addEventListener('resize', () => render());
  render();
  setInterval(render, 1000);
  $('#status').textContent = 'ready';
  (window as unknown as { __harness: unknown }).__harness = { figma, host, ids, uiMode, log, render, runPluginAsync, setFigmaTheme };
  if (params.get('autorun') !== '0') await runPluginAsync(params.get('command') ?? '');
}

void mainAsync();
