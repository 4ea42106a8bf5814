/**
 * The server side of the app: Models → Server (address, optional token, Connect; the health check per mode in plain
 * words) and the engine picker beside Generate ("This device" / the server), so a designer switches a generation
 * to a server in two clicks.
 */
import { useId, useState } from 'preact/hooks';
import type { AppStore } from '../store';
import { MODE_LABEL } from './create-view';
import { MODES } from '../../../protocol/messages';

const DEFAULT_URL: Record<'comfyui' | 'swarmui', string> = { comfyui: 'http://127.0.0.1:8188', swarmui: 'http://127.0.0.1:7801' };

export function ServerCard({ store }: { store: AppStore }) {
  const id = useId();
  const saved = store.settings.value.server;
  const [kind, setKind] = useState<'comfyui' | 'swarmui'>(saved?.kind ?? 'comfyui');
  const [url, setUrl] = useState(saved?.url ?? '');
  const [token, setToken] = useState(saved?.token ?? '');
  if (!store.canUseServer) return null;
  const state = store.serverState.value;
  const health = store.serverHealth.value;
  const err = store.serverError.value;
  const connect = (): void => {
    void store.connectServerAsync({ kind, url: (url.trim() || DEFAULT_URL[kind]).replace(/\/+$/, ''), token: token.trim() });
  };
  return (
    <section class="card stack" aria-labelledby={`${id}-title`} data-testid="server-card">
      <div class="card-title" id={`${id}-title`}>Server</div>
      <p class="muted small">
        Run generations on a ComfyUI server (a GPU box, or your own computer) instead of this device. The prompt, the
        selected image, mask and outlines are sent to that server — nothing goes anywhere until you connect one.
      </p>
      <div class="row">
        <div class="segmented compact" role="group" aria-label="Server kind">
          {(['comfyui', 'swarmui'] as const).map((k) => (
            <button key={k} type="button" aria-pressed={kind === k} onClick={() => setKind(k)}>{k === 'comfyui' ? 'ComfyUI' : 'SwarmUI'}</button>
          ))}
        </div>
      </div>
      <label for={`${id}-url`}>Address</label>
      <input id={`${id}-url`} type="url" value={url} placeholder={DEFAULT_URL[kind]} data-testid="server-url" spellcheck={false}
        onInput={(e) => setUrl((e.currentTarget as HTMLInputElement).value)} onKeyDown={(e) => { if (e.key === 'Enter') connect(); }} />
      <label for={`${id}-token`}>Access token <span class="muted">(optional, sent as “Authorization: Bearer …”)</span></label>
      <input id={`${id}-token`} type="password" value={token} autocomplete="off" data-testid="server-token"
        onInput={(e) => setToken((e.currentTarget as HTMLInputElement).value)} />
      <div class="row">
        <span class="grow small muted" role="status" data-testid="server-status">
          {state === 'connecting' ? 'Checking the server…' : state === 'connected' && health ? `Connected — ${health.summary}` : state === 'failed' ? 'Not connected' : 'No server'}
        </span>
        {saved && <button type="button" class="btn" onClick={() => void store.connectServerAsync(null)} data-testid="server-forget">Forget</button>}
        <button type="button" class="btn primary" disabled={state === 'connecting'} onClick={connect} data-testid="server-connect">
          {state === 'connected' ? 'Check again' : 'Connect'}
        </button>
      </div>
      {err && (
        <div class="callout error" role="alert" data-testid="server-error">
          <div class="grow"><p class="callout-title">{err.message}</p>{err.hint && <p>{err.hint}</p>}</div>
        </div>
      )}
      {health && (
        <ul class="stack small" style="list-style:none;margin:0;padding:0;gap:2px" data-testid="server-modes">
          {[...MODES, 'style' as const].map((m) => {
            const r = health.modes[m];
            const label = m === 'style' ? 'Style reference' : MODE_LABEL[m];
            return (
              <li key={m} data-testid={`server-mode-${m}`}>
                {r.ready ? <span class="ok-text">✓ {label}</span> : <span class="warn-text">✗ {label} — needs {r.missing.join(', ')}</span>}
              </li>
            );
          })}
        </ul>
      )}
    </section>
  );
}

/** "Run on: This device | <server>" beside Generate. Choosing the server when none is connected opens Models → Server. */
export function EnginePicker({ store }: { store: AppStore }) {
  if (!store.canUseServer) return null;
  const engine = store.settings.value.engine;
  const health = store.serverHealth.value;
  const host = (() => {
    try { return health ? new URL(health.url).host : store.settings.value.server ? new URL(store.settings.value.server.url).host : null; } catch { return null; }
  })();
  return (
    <label class="row small" style="gap:6px">
      <span class="muted" style="white-space:nowrap">Run on</span>
      <select data-testid="engine-picker" aria-label="Run on" value={engine} style="flex:1;min-width:0"
        onChange={(e) => store.setEngine((e.currentTarget as HTMLSelectElement).value === 'server' ? 'server' : 'local')}>
        <option value="local">This device</option>
        <option value="server">{host ? `Server (${host})` : 'Server…'}</option>
      </select>
    </label>
  );
}
