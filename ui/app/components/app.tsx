/** The app shell: top navigation, error banner, the current view and the run footer. Keyboard: ⌘/Ctrl+Enter, Esc. */
import { useEffect } from 'preact/hooks';
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
  if (!err) return null;
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

export function App({ store }: { store: AppStore }) {
  const view = store.view.value;
  const caps = store.capabilities.value;

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
      <main class="scroll">
        {view === 'create' && <CreateView store={store} />}
        {view === 'history' && <HistoryView store={store} />}
        {view === 'models' && <ModelsView store={store} />}
      </main>
      {(view === 'create' || store.run.value) && <RunPanel store={store} />}
    </div>
  );
}
