/** The footer: Generate / Cancel, progress with step x/y and ETA, the live preview, and the last run's outcome. */
import { useEffect, useRef } from 'preact/hooks';
import { formatDuration } from '../format';
import type { AppStore } from '../store';
import { MODE_LABEL } from './create-view';
import { EnginePicker } from './server-card';

const STAGE_LABEL = { queued: 'Waiting for the server', text: 'Reading the prompt', encode: 'Encoding the image', denoise: 'Step', decode: 'Decoding', refine: 'Full resolution' } as const;

function PreviewCanvas({ store }: { store: AppStore }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const img = store.preview.value;
  useEffect(() => {
    const canvas = ref.current;
    if (!canvas || !img) return;
    if (canvas.width !== img.width || canvas.height !== img.height) {
      canvas.width = img.width;
      canvas.height = img.height;
    }
    const ctx = canvas.getContext('2d');
    ctx?.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  }, [img]);
  return <canvas ref={ref} class="preview" role="img" aria-label="Preview of the image being generated" data-testid="preview" data-updates={img ? 1 : 0} />;
}

/** Clicks on Cancel this soon after it appeared belong to the click that started the run (a double-click on Generate). */
export const CANCEL_GUARD_MS = 500;

/**
 * Cancel renders where Generate was, so the second click of a double-click on Generate would land on it: a click that
 * is part of a multi-click (`detail > 1`) or comes within CANCEL_GUARD_MS of the button appearing is ignored (Esc
 * still cancels at once). While the result is being written into the document, Cancel is not offered: the write is
 * one short step that cannot be undone half-way.
 */
function CancelButton({ store }: { store: AppStore }) {
  const shownAt = useRef(performance.now());
  const run = store.run.value;
  if (!run) return null;
  const inserting = run.phase === 'inserting';
  return (
    <button type="button" class="btn big" data-testid="cancel" disabled={run.cancelling || inserting}
      onClick={(e) => {
        if (e.detail > 1 || performance.now() - shownAt.current < CANCEL_GUARD_MS) return;
        store.cancel();
      }}>
      {run.cancelling ? 'Cancelling…' : inserting ? 'Inserting…' : <>Cancel <kbd>Esc</kbd></>}
    </button>
  );
}

export const isMac = (): boolean => typeof navigator !== 'undefined' && /Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent);

export function RunPanel({ store }: { store: AppStore }) {
  const run = store.run.value;
  const mode = store.mode.value;
  const shortcut = isMac() ? '⌘↵' : 'Ctrl+↵';
  if (run) {
    const frac = run.phase === 'preparing' ? 0 : (run.batchIndex + (run.imageShare ?? (run.total > 0 ? run.step / run.total : 0))) / run.batchCount;
    const what = run.phase === 'preparing' ? 'Reading the selection…'
      : run.phase === 'inserting' ? 'Inserting into the document…'
      : run.stage === 'denoise' ? `${mode === 'boost' ? 'Tile' : 'Step'} ${run.step}/${run.total}`
      : run.stage === 'refine' ? (run.step > 0 ? `Full resolution: refining tile ${run.step}/${run.total}` : `Full resolution: refining in ${run.total} tiles…`)
      : run.stage === 'queued' ? (run.queuePosition ? `Waiting in the server's queue (${run.queuePosition} ahead)…` : 'Waiting for the server…')
      : run.stage ? `${STAGE_LABEL[run.stage]}…` : 'Starting…';
    return (
      <div class="footer" data-testid="run-panel">
        <div class="preview-wrap">
          <PreviewCanvas store={store} />
          <div class="stack grow" style="flex:1;min-width:0;gap:4px">
            <div class="run-line"><span data-testid="run-step">{what}</span>{run.batchCount > 1 && <span>Image {run.batchIndex + 1} of {run.batchCount}</span>}</div>
            <div class="progress" role="progressbar" aria-label="Generation progress" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(frac * 100)}>
              <div style={{ width: `${Math.round(frac * 100)}%` }} />
            </div>
            <div class="run-line small"><span data-testid="run-eta">{run.etaSeconds === undefined ? 'Estimating time…' : run.etaSeconds < 1 ? 'Almost done' : `About ${formatDuration(run.etaSeconds)} left`}</span></div>
          </div>
        </div>
        <CancelButton store={store} />
      </div>
    );
  }
  return (
    <div class="footer">
      {store.notice.value && (
        <div class="row notice">
          <span class="grow" role="status" data-testid="notice">{store.notice.value}</span>
          {store.lastInserted.value.length > 0 && (
            <button type="button" class="link" onClick={() => store.focusNode(store.lastInserted.value[0] as string)}>Show on canvas</button>
          )}
        </div>
      )}
      <EnginePicker store={store} />
      <button type="button" class="btn primary big" onClick={() => void store.generateAsync()} data-testid="generate"
        aria-keyshortcuts={isMac() ? 'Meta+Enter' : 'Control+Enter'}>
        {mode === 'generate' ? 'Generate' : mode === 'wireframe' ? 'Make mockup' : mode === 'boost' ? `Boost ×${store.boostScale.value}` : MODE_LABEL[mode]}
        {store.settings.value.batchCount > 1 ? ` ${store.settings.value.batchCount} images` : ''} <kbd>{shortcut}</kbd>
      </button>
    </div>
  );
}
