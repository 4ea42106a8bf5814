/**
 * App entry: `mountApp(root, env)` renders the Preact app into `root`, connects to the plugin (`ui-ready` → `init`)
 * and the engine, and returns an unmount function (which flushes pending settings).
 */
import { effect } from '@preact/signals';
import { render } from 'preact';
import { App } from './components/app';
import type { AppEnv } from './env';
import { coreRasterizer, type Rasterizer } from './job';
import { createAppStore, type AppStore } from './store';
import { injectStyles } from './styles';

export type { AppEnv } from './env';

export interface MountOptions {
  /** Path rasteriser for masks / outlines (default: ui/core/raster). */
  readonly raster?: Rasterizer;
  /** Called with the store once created (tests and the harness inspect it). */
  readonly onStore?: (store: AppStore) => void;
}

export function mountApp(root: HTMLElement, env: AppEnv, options: MountOptions = {}): () => void {
  const doc = root.ownerDocument;
  const removeStyles = injectStyles(doc);
  const store = createAppStore(env, { raster: options.raster ?? coreRasterizer });
  options.onStore?.(store);
  // Inline mode with themeColors: Figma puts `figma-light` / `figma-dark` on <html> and switches it live.
  const html = doc.documentElement;
  // Hosted mode: Figma's theme class is on the bootstrap page (opened with themeColors), which passes it on in the
  // hosted URL's hash (#figma-theme=dark) when it redirects.
  const hashTheme = new URLSearchParams((doc.defaultView?.location.hash ?? '').replace(/^#/, '')).get('figma-theme');
  const bootTheme = hashTheme === 'dark' || hashTheme === 'light' ? hashTheme : null;
  store.bootTheme.value = bootTheme;
  const readFigmaTheme = (): void => {
    store.figmaTheme.value = html.classList.contains('figma-dark') ? 'dark' : html.classList.contains('figma-light') ? 'light' : null;
  };
  readFigmaTheme();
  const observer = new MutationObserver(readFigmaTheme);
  observer.observe(html, { attributes: true, attributeFilter: ['class'] });
  // The page itself follows the theme (scrollbars, form controls, the body behind the app).
  const stopTheme = effect(() => {
    html.dataset.theme = store.effectiveTheme.value;
    html.style.colorScheme = store.effectiveTheme.value;
  });
  render(<App store={store} />, root);
  void store.startAsync();
  return () => {
    stopTheme();
    observer.disconnect();
    store.dispose();
    render(null, root);
    removeStyles();
  };
}
