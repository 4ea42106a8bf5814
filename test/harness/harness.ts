/**
 * The Figma-faithful harness page (served by `npm start` and driven by the browser tests).
 * - A simulated document (the hand-written fake Figma API) drawn on a canvas; click a layer or the canvas to select.
 * - The real built dist/<mode>/code.js runs against the fake, with `figma` and `__html__` as its globals.
 * - The real plugin UI runs in an iframe with Figma's envelopes: inline mode in `sandbox="allow-scripts"` (null
 *   origin); hosted mode via the build's bootstrap, which moves the iframe to the hosted app on another origin.
 */
import { createFakeFigma, createDemoDocument } from '../fake-figma';

type UiMode = 'inline' | 'hosted';

const params = new URLSearchParams(location.search);
const uiMode: UiMode = params.get('mode') === 'hosted' ? 'hosted' : 'inline';
const PLUGIN_ID = (document.querySelector('meta[name=plugin-id]')?.getAttribute('content')) ?? '1456789012345678901';

const $ = <T extends HTMLElement>(sel: string): T => {
  const el = document.querySelector<T>(sel);
  if (!el) throw new Error(`missing ${sel}`);
  return el;
};

const { figma, host } = createFakeFigma({ pluginId: PLUGIN_ID });
let iframe: HTMLIFrameElement | null = null;
const log: { dir: 'to-ui' | 'to-plugin'; type: string; at: number }[] = [];

function toast(text: string, error = false): void {
  const el = document.createElement('div');
  el.className = `toast${error ? ' error' : ''}`;
  el.textContent = text;
  $('#toasts').append(el);
  setTimeout(() => el.remove(), 4000);
}

function render(): void {
  const img = host.renderPage();
  const canvas = $<HTMLCanvasElement>('#canvas');
  if (canvas.width !== img.width || canvas.height !== img.height) {
    canvas.width = img.width;
    canvas.height = img.height;
  }
  const ctx = canvas.getContext('2d');
  if (!ctx) return;
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  const origin = host.pageOrigin?.() ?? { x: 0, y: 0 };
  ctx.strokeStyle = '#0d99ff';
  ctx.lineWidth = 2;
  for (const node of figma.currentPage.selection) {
    const b = node.absoluteBoundingBox;
    if (b) ctx.strokeRect(b.x - origin.x, b.y - origin.y, b.width, b.height);
  }
  renderLayers();
}

function renderLayers(): void {
  const nav = $('#layers');
  nav.textContent = '';
  const selected = new Set(figma.currentPage.selection.map((n) => n.id));
  const walk = (nodes: readonly SceneNode[], depth: number): void => {
    for (const node of [...nodes].reverse()) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = `depth-${Math.min(depth, 3)}`;
      b.textContent = `${node.type === 'TEXT' ? 'T' : node.type === 'FRAME' ? '#' : '◇'} ${node.name}`;
      b.dataset.nodeId = node.id;
      b.setAttribute('aria-pressed', String(selected.has(node.id)));
      b.addEventListener('click', (e) => {
        const ids = e.shiftKey ? [...selected, node.id] : [node.id];
        host.select(ids);
      });
      nav.append(b);
      if ('children' in node && depth < 3) walk(node.children, depth + 1);
    }
  };
  walk(figma.currentPage.children, 0);
}

function showUi(html: string): void {
  const frameHost = $('#frame-host');
  frameHost.textContent = '';
  iframe = document.createElement('iframe');
  iframe.title = 'Plugin UI';
  iframe.id = 'plugin-iframe';
  if (uiMode === 'inline') {
    // Figma's default UI: a null-origin document with no storage.
    iframe.setAttribute('sandbox', 'allow-scripts');
    iframe.srcdoc = html;
  } else {
    // Hosted: the bootstrap (a data: document, as Figma loads it) redirects to the app's real origin.
    iframe.src = `data:text/html;charset=utf-8,${encodeURIComponent(html)}`;
  }
  frameHost.append(iframe);
  $('#plugin-title').textContent = 'Local Diffusion';
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

host.onShowUI((html: string) => showUi(html));
host.onPostToUi((message: unknown, options?: { origin?: string }) => {
  const type = (message as { type?: string } | null)?.type ?? '?';
  log.push({ dir: 'to-ui', type: String(type), at: performance.now() });
  iframe?.contentWindow?.postMessage({ pluginMessage: message, pluginId: PLUGIN_ID }, options?.origin ?? '*');
});
host.onNotify?.((text: string, opts?: { error?: boolean }) => toast(text, opts?.error));
host.onChange?.(() => render());
figma.on('selectionchange', () => render());

async function runPluginAsync(command = ''): Promise<void> {
  const [code, html] = await Promise.all([
    fetch(`/${uiMode}/code.js`).then((r) => r.text()),
    fetch(`/${uiMode}/ui.html`).then((r) => r.text()),
  ]);
  host.launch?.({ command });
  // Figma runs main-thread code with `figma` and `__html__` in scope.
  new Function('figma', '__html__', code)(figma, html);
}

async function mainAsync(): Promise<void> {
  const ids = await createDemoDocument(figma);
  $<HTMLSelectElement>('#mode').value = uiMode;
  $<HTMLSelectElement>('#mode').addEventListener('change', (e) => {
    const next = (e.target as HTMLSelectElement).value;
    location.search = `?mode=${next}`;
  });
  $('#run').addEventListener('click', () => void runPluginAsync());
  $('#canvas').addEventListener('click', (e) => {
    const canvas = e.currentTarget as HTMLCanvasElement;
    const r = canvas.getBoundingClientRect();
    const origin = host.pageOrigin?.() ?? { x: 0, y: 0 };
    const id = host.hitTest(e.clientX - r.left + origin.x, e.clientY - r.top + origin.y);
    host.select(id ? [id] : []);
  });
  render();
  setInterval(render, 1000);
  $('#status').textContent = 'ready';
  (window as unknown as { __harness: unknown }).__harness = { figma, host, ids, uiMode, log, render, runPluginAsync };
  if (params.get('autorun') !== '0') await runPluginAsync(params.get('command') ?? '');
}

void mainAsync();
