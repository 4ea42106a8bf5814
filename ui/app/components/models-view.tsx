/** Models and this device: capabilities, storage, and each model's licence, size, status and actions. */
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import type { ErrorData } from '../../../protocol/errors';
import type { ModelEntry } from '../../contracts/engine';
import { formatBytes, formatDuration, wasmEstimateLine, withHint } from '../format';
import { modelSupportsMode } from '../model-params';
import type { AppStore } from '../store';
import { MODES } from '../../../protocol/messages';
import { INLINE_LIMIT, MODE_LABEL, recommendedModel } from './create-view';
import { IconWarning } from './icons';
import { ServerCard } from './server-card';

export function DevicePanel({ store }: { store: AppStore }) {
  const caps = store.capabilities.value;
  if (!caps) return <section class="card" aria-label="This device"><span class="muted">Checking this device…</span></section>;
  // The estimate is for this device: server models do not run here.
  const localModels = store.models.value.filter((m) => (m.engine ?? 'local') === 'local');
  const gpuModel = localModels.find((m) => m.status === 'ready') ?? localModels[0] ?? null;
  const measured = gpuModel ? store.imageSeconds.value[gpuModel.id] : undefined;
  return (
    <details class="card" data-testid="device-panel">
      <summary class="card-title" id="device-title">This device: {caps.provider === 'webgpu' ? 'GPU (WebGPU)' : 'CPU only'}</summary>
      <dl class="kv">
        <dt>WebGPU</dt><dd>{caps.webgpu ? <span class="ok-text">Yes</span> : <span class="warn-text">No</span>}{caps.adapterName ? ` — ${caps.adapterName}` : ''}</dd>
        <dt>16-bit shaders</dt><dd>{caps.shaderF16 ? 'Yes (shader-f16)' : 'No — 16-bit models run on the CPU'}</dd>
        <dt>Runs on</dt><dd><strong>{caps.provider === 'webgpu' ? 'GPU (WebGPU)' : 'CPU (WebAssembly)'}</strong> — {caps.reason}</dd>
        <dt>CPU threads</dt><dd>{caps.crossOriginIsolated ? `${caps.wasmThreads ?? 'several'}` : '1 — this window is not cross-origin isolated, so WebAssembly can’t use threads'}</dd>
      </dl>
      {caps.provider === 'wasm' && (
        <div class="callout warning" data-testid="wasm-estimate"><span class="callout-icon"><IconWarning /></span>
          <p>{wasmEstimateLine(gpuModel, caps.wasmThreads ?? 1, measured)} A GPU with WebGPU is 20–100× faster.</p>
        </div>
      )}
    </details>
  );
}

function StoragePanel({ store }: { store: AppStore }) {
  const caps = store.capabilities.value;
  const st = store.storage.value;
  return (
    <section class="stack" aria-label="Storage" data-testid="storage-panel">
      {caps && !caps.persistentStorage && (
        <div class="callout warning" data-testid="storage-warning"><span class="callout-icon"><IconWarning /></span>
          <p data-testid="inline-limit">{INLINE_LIMIT}</p>
        </div>
      )}
      {st && (
        <div class="row muted">
          <span class="grow">Storage used: <strong>{formatBytes(st.usedBytes)}</strong>{st.quotaBytes !== undefined ? ` of ${formatBytes(st.quotaBytes)} available` : ''}</span>
        </div>
      )}
    </section>
  );
}

function statusLine(m: ModelEntry): preact.JSX.Element {
  switch (m.status) {
    case 'ready': return <span class="badge ok">Ready</span>;
    case 'not-downloaded': return <span class="badge">Not downloaded</span>;
    case 'downloading': return <span class="badge">Downloading</span>;
    case 'paused': return <span class="badge">Paused</span>;
    case 'failed': return <span class="badge err">Failed</span>;
  }
}

function ModelCard({ store, model: m, primary }: { store: AppStore; model: ModelEntry; primary: boolean }) {
  const folderId = useId();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const ref = useRef<HTMLLIElement>(null);
  const focused = store.modelFocus.value === m.id;
  useEffect(() => {
    if (!focused || !ref.current) return;
    ref.current.scrollIntoView({ block: 'start' });
    ref.current.focus({ preventScroll: true });
    store.modelFocus.value = null;
  }, [focused]);
  const pending = store.pendingLicence.value === m.id;
  const caps = store.capabilities.value;
  const p = m.progress;
  const pct = p && p.total > 0 ? Math.min(100, Math.round((p.bytes / p.total) * 100)) : 0;
  return (
    <li class="card" ref={ref} tabIndex={-1} data-testid={`model-${m.id}`} aria-labelledby={`${folderId}-name`}>
      <div class="card-head">
        <div class="grow" style="flex:1;min-width:0">
          <div class="card-title" id={`${folderId}-name`}>{m.name}</div>
          <div class="muted">{m.description}</div>
        </div>
        {statusLine(m)}
      </div>
      <div class="badges">
        {m.engine && m.engine !== 'local' ? <span class="badge" data-testid="server-badge">On the server</span> : <span class="badge">{formatBytes(m.totalBytes)}</span>}
        <span class="badge">{m.dtype === 'float16' ? '16-bit' : '32-bit'}</span>
        <span class="badge" title={`Licence: ${m.licence.name}`}>{m.licence.name}</span>
        {!m.licence.commercial_use && <span class="badge warn" title="This licence does not allow commercial use">Non-commercial</span>}
        {MODES.filter((mode) => modelSupportsMode(m, mode)).map((mode) => <span key={mode} class="badge">{MODE_LABEL[mode]}</span>)}
      </div>
      {m.dtype === 'float16' && caps && !caps.shaderF16 && caps.webgpu && (
        <div class="small warn-text">This GPU has no 16-bit shader support, so this model will run on the CPU (slow).</div>
      )}
      {m.status === 'downloading' && p && (
        <div class="stack" style="gap:4px" data-testid="download-progress">
          <div class="progress" role="progressbar" aria-label={`Downloading ${m.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}><div style={{ width: `${pct}%` }} /></div>
          <div class="run-line small">
            <span>{formatBytes(p.bytes)} of {formatBytes(p.total)} ({pct}%)</span>
            <span>{p.rate > 0 ? `${formatBytes(p.rate)}/s` : ''}{p.etaSeconds !== undefined ? ` · ${formatDuration(p.etaSeconds)} left` : ''}</span>
          </div>
          <DownloadControls store={store} model={m} />
        </div>
      )}
      {m.status === 'paused' && <DownloadControls store={store} model={m} />}
      {m.recordedHashes && m.recordedHashes.length > 0 && <RecordedHashes model={m} />}
      {m.status === 'failed' && m.error && (() => {
        const e = withHint(m.error);
        return <div class="callout error" role="alert"><div class="grow"><p class="callout-title">{e.message}</p>{e.hint && <p>{e.hint}</p>}</div></div>;
      })()}
      {pending && (
        <div class="callout warning" role="alertdialog" aria-label="Licence check" data-testid="licence-confirm">
          <div class="grow stack" style="gap:6px">
            <p><strong>{m.name}</strong> is under “{m.licence.name}”, which does <strong>not</strong> allow commercial use. Images you make with it can’t be used in paid work.</p>
            <div class="row">
              <button type="button" class="btn primary" onClick={() => void store.downloadAsync(m.id, { confirmed: true })}>I understand, download</button>
              <button type="button" class="btn" onClick={() => { store.pendingLicence.value = null; }}>Cancel</button>
              <a class="link" href={m.licence.url} target="_blank" rel="noreferrer">Read the licence</a>
            </div>
          </div>
        </div>
      )}
      <div class="row" style="flex-wrap:wrap">
        {(m.status === 'not-downloaded' || m.status === 'failed') && !pending && (
          <button type="button" class={`btn${primary ? ' primary' : ''}`} onClick={() => void store.downloadAsync(m.id)} aria-label={`Download ${m.name}, ${formatBytes(m.totalBytes)}`}>
            {m.status === 'failed' ? 'Retry download' : `Download ${formatBytes(m.totalBytes)}`}
          </button>
        )}
        {store.canLoadFromFiles && m.status !== 'ready' && m.status !== 'downloading' && m.status !== 'paused' && (
          <label class="btn" for={folderId}>
            Load from folder…
            <input id={folderId} type="file" class="sr-only" multiple
              // Chromium's folder picker; files keep their relative paths (webkitRelativePath).
              {...{ webkitdirectory: '' }}
              aria-label={`Load ${m.name} from a folder`}
              onChange={(e) => {
                const files = Array.from((e.currentTarget as HTMLInputElement).files ?? []);
                if (files.length > 0) void store.loadFromFilesAsync(m.id, files);
              }} />
          </label>
        )}
        {m.status === 'ready' && (m.engine ?? 'local') === 'local' && !confirmDelete && (
          <button type="button" class="btn" onClick={() => setConfirmDelete(true)} aria-label={`Delete ${m.name}`}>
            {store.capabilities.value?.persistentStorage === false ? 'Unload' : 'Delete'}
          </button>
        )}
      </div>
      {m.status === 'ready' && confirmDelete && (
        <div class="callout warning" role="alertdialog" aria-label={`Delete ${m.name}?`} data-testid="delete-confirm">
          <div class="grow stack" style="gap:6px">
            <p>Delete {m.name}? Using it again means downloading {formatBytes(m.totalBytes)} again.</p>
            <div class="row">
              <button type="button" class="btn danger" onClick={() => { setConfirmDelete(false); void store.deleteModelAsync(m.id); }}>Delete {formatBytes(m.totalBytes)}</button>
              <button type="button" class="btn" onClick={() => setConfirmDelete(false)}>Keep it</button>
            </div>
          </div>
        </div>
      )}
    </li>
  );
}

function AppearanceRow({ store }: { store: AppStore }) {
  // Inline UIs follow Figma's theme live. Hosted UIs get Figma's theme only when they open (Figma gives hosted pages
  // no live theme), so the user can switch here after changing Figma's (saved in settings).
  if (store.figmaTheme.value) return null;
  const t = store.effectiveTheme.value;
  return (
    <div class="row">
      <span class="grow muted" id="theme-label" title={store.bootTheme.value ? 'Figma’s theme when the plugin opened; switch here if you change Figma’s theme' : undefined}>Theme</span>
      <div class="segmented compact" role="group" aria-labelledby="theme-label">
        {(['light', 'dark'] as const).map((v) => (
          <button key={v} type="button" aria-pressed={t === v} onClick={() => store.setTheme(v)}>{v === 'light' ? 'Light' : 'Dark'}</button>
        ))}
      </div>
    </div>
  );
}

function AddModel({ store }: { store: AppStore }) {
  const id = useId();
  const [text, setText] = useState('');
  const [busy, setBusy] = useState(false);
  const [err, setErr] = useState<ErrorData | null>(null);
  if (!store.canAddCustomModel) return null;
  const submit = async (): Promise<void> => {
    setBusy(true);
    const e = await store.addCustomModelAsync(text);
    setBusy(false);
    setErr(e);
    if (!e) setText('');
  };
  return (
    <details class="card" data-testid="add-model">
      <summary>Add a model…</summary>
      <div class="stack">
        <label for={id}>Manifest URL or JSON</label>
        <textarea id={id} rows={2} value={text} placeholder="https://huggingface.co/…/manifest.json" aria-invalid={err ? true : undefined}
          aria-describedby={err ? `${id}-err` : undefined}
          onInput={(e) => setText((e.currentTarget as HTMLTextAreaElement).value)} />
        {err && <div class="small danger-text" id={`${id}-err`} role="alert">{err.message}{err.hint ? ` ${err.hint}` : ''}</div>}
        <div class="row"><span class="grow muted small">The manifest lists the model’s files, licence and defaults.</span>
          <button type="button" class="btn" disabled={busy} onClick={() => void submit()}>{busy ? 'Adding…' : 'Add model'}</button></div>
      </div>
    </details>
  );
}

export function ModelsView({ store }: { store: AppStore }) {
  const models = store.models.value;
  // One primary button: the download the Get started card recommends, while nothing is downloaded yet.
  const rec = models.some((m) => m.status === 'ready') ? null : recommendedModel(models, store.capabilities.value);
  return (
    <div class="stack">
      <div class="section-title">Models</div>
      <StoragePanel store={store} />
      {!store.modelsLoaded.value ? <p class="muted">Loading the model list…</p>
        : models.length === 0 ? <p class="empty">No models are listed in this build.</p>
        : <ul class="stack" style="list-style:none;margin:0;padding:0">{models.map((m) => <ModelCard key={m.id} store={store} model={m} primary={m.id === rec?.id} />)}</ul>}
      <AddModel store={store} />
      <ServerCard store={store} />
      <AppearanceRow store={store} />
      <DevicePanel store={store} />
    </div>
  );
}

/**
 * Download controls (#15.3 / #12.5), kept apart from the card's layout: while downloading, the retry countdown and
 * Pause / Cancel (both stop the network at once and keep what was downloaded); when paused, how much is kept, Resume
 * and Delete.
 */
function DownloadControls({ store, model: m }: { store: AppStore; model: ModelEntry }) {
  const p = m.progress;
  if (m.status === 'paused') {
    return (
      <div class="row small" data-testid="download-paused" style="flex-wrap:wrap">
        <span class="grow">{p ? `Paused at ${formatBytes(p.bytes)} of ${formatBytes(p.total)}.` : 'Paused.'}</span>
        <button type="button" class="btn primary" onClick={() => void store.downloadAsync(m.id, { confirmed: true })} aria-label={`Resume downloading ${m.name}`}>Resume</button>
        <button type="button" class="btn" onClick={() => void store.deleteModelAsync(m.id)} aria-label={`Delete the partial download of ${m.name}`}>Delete</button>
      </div>
    );
  }
  return (
    <div class="row small" data-testid="download-controls" style="flex-wrap:wrap">
      <span class="grow" role="status">{p?.retry ? `Connection problem: retrying in ${p.retry.inSeconds} s (try ${p.retry.attempt} of ${p.retry.of}) — ${p.retry.reason}` : ''}</span>
      <button type="button" class="btn" onClick={() => void store.stopDownloadAsync(m.id, 'pause')} aria-label={`Pause downloading ${m.name}`}>Pause</button>
      <button type="button" class="btn" onClick={() => void store.stopDownloadAsync(m.id, 'cancel')} aria-label={`Cancel downloading ${m.name}`}>Cancel</button>
    </div>
  );
}

/** Files the manifest pins no hash for: the sha256 recorded at their first download, to compare with the source. */
function RecordedHashes({ model: m }: { model: ModelEntry }) {
  return (
    <details class="small" data-testid="recorded-hashes">
      <summary>{m.recordedHashes!.length === 1 ? '1 file' : `${m.recordedHashes!.length} files`} checked against the hash of the first download</summary>
      <ul>
        {m.recordedHashes!.map((h) => (
          <li key={h.path}><code>{h.path}</code>: sha256 <code style="word-break:break-all">{h.sha256}</code> ({h.source === 'host' ? 'as the host advertised it' : 'recorded at the first download'})</li>
        ))}
      </ul>
    </details>
  );
}
