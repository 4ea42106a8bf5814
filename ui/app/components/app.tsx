/** The app shell: top navigation, error banner, the current view and the run footer. Keyboard: ⌘/Ctrl+Enter, Esc. */
import { useEffect, useLayoutEffect, useRef } from 'preact/hooks';
import type { AppStore, View } from '../store';
import { CreateView } from './create-view';
import { HistoryView } from './history-view';
import { IconClose, IconWarning } from './icons';
import { ModelsView } from './models-view';
import { RunPanel } from './run-panel';

const VIEWS: readonly { id: View; label: string }[] = [
  { id: 'create', label: 'Create' },
  { id: 'history', label: 'History' },
  { id: 'models', label: 'Models' },
];

function ErrorBanner({ store }: { store: AppStore }) {
  const err = store.error.value;
  if (!err || err.field) return null; // errors about one control are shown at that control
  return (
    <div class="callout error" role="alert" data-testid="error" style="margin:8px 12px 0">
      <span class="callout-icon danger-text"><IconWarning /></span>
      <div class="grow">
        <p class="callout-title">{err.message}</p>
        {err.hint && <p>{err.hint}</p>}
      </div>
      <button type="button" class="btn icon ghost" aria-label="Dismiss the error" onClick={() => { store.error.value = null; }}><IconClose /></button>
    </div>
  );
}

/** The window's size limits (the `resize` message's range). */
export const WINDOW_LIMITS = { minWidth: 240, maxWidth: 1200, minHeight: 200, maxHeight: 1600 } as const;

/** Figma plugin windows have no resize edge: this corner handle drags the size (figma.ui.resize; remembered). */
function ResizeHandle({ store }: { store: AppStore }) {
  const start = useRef<{ x: number; y: number; w: number; h: number } | null>(null);
  const frame = useRef(0);
  const size = (e: PointerEvent): { width: number; height: number } | null => {
    const s = start.current;
    if (!s) return null;
    return {
      width: Math.round(Math.min(WINDOW_LIMITS.maxWidth, Math.max(WINDOW_LIMITS.minWidth, s.w + e.screenX - s.x))),
      height: Math.round(Math.min(WINDOW_LIMITS.maxHeight, Math.max(WINDOW_LIMITS.minHeight, s.h + e.screenY - s.y))),
    };
  };
  const send = (sz: { width: number; height: number }): void => store.resizeWindow(sz.width, sz.height);
  return (
    <div class="resize-handle" role="separator" aria-label="Resize the window" title="Drag to resize" data-testid="resize-handle"
      onPointerDown={(e) => {
        (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
        start.current = { x: e.screenX, y: e.screenY, w: window.innerWidth, h: window.innerHeight };
      }}
      onPointerMove={(e) => {
        const sz = size(e);
        if (!sz || frame.current) return;
        frame.current = requestAnimationFrame(() => { frame.current = 0; send(sz); });
      }}
      onPointerUp={(e) => {
        const sz = size(e);
        start.current = null;
        if (sz) send(sz);
      }}
    />
  );
}

export function App({ store }: { store: AppStore }) {
  const view = store.view.value;
  const caps = store.capabilities.value;
  // Each view keeps its own scroll position.
  const scroller = useRef<HTMLElement>(null);
  const scrollByView = useRef<Partial<Record<View, number>>>({});
  useLayoutEffect(() => {
    if (scroller.current && store.modelFocus.peek() === null) scroller.current.scrollTop = scrollByView.current[view] ?? 0;
  }, [view]);

  useEffect(() => {
    if (view === 'history') void store.refreshHistoryAsync();
    if (view === 'models') void store.refreshStorageAsync();
  }, [view]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      if (e.key === 'Enter' && (e.metaKey || e.ctrlKey)) {
        e.preventDefault();
        if (!store.run.peek()) void store.generateAsync();
      } else if (e.key === 'Escape' && store.run.peek()) {
        e.preventDefault();
        store.cancel();
      }
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  return (
    <div class="lda" data-theme={store.effectiveTheme.value} data-ready={store.ready.value ? 'true' : 'false'}>
      <nav class="nav" aria-label="Sections">
        <div role="tablist" aria-label="Sections" style="display:flex;gap:4px">
          {VIEWS.map((v) => (
            <button key={v.id} type="button" role="tab" id={`nav-${v.id}`} class="nav-tab" aria-selected={view === v.id}
              onClick={() => { store.view.value = v.id; }}>{v.label}</button>
          ))}
        </div>
        {caps && (
          <span class="nav-status" title={caps.reason} data-testid="provider-status">
            <span class={`dot ${caps.provider === 'webgpu' ? 'ok' : 'warn'}`} />
            {caps.provider === 'webgpu' ? 'GPU' : 'CPU only'}
          </span>
        )}
      </nav>
      <ErrorBanner store={store} />
      <main class="scroll" ref={scroller} data-view={view} onScroll={(e) => { scrollByView.current[view] = (e.currentTarget as HTMLElement).scrollTop; }}>
        {view === 'create' && <CreateView store={store} />}
        {view === 'history' && <HistoryView store={store} />}
        {view === 'models' && <ModelsView store={store} />}
      </main>
      {(view === 'create' || store.run.value) && <RunPanel store={store} />}
      <ResizeHandle store={store} />
    </div>
  );
}
