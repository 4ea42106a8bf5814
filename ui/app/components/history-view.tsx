/** This document's generations (from the recipes stored on result layers): show, re-run, vary, copy seed. */
import { useMemo } from 'preact/hooks';
import type { HistoryEntry } from '../../../protocol/messages';
import { pngDataUrl, truncate } from '../format';
import type { AppStore } from '../store';
import { copyTextAsync } from './fields';
import { MODE_LABEL } from './create-view';
import { IconCopy } from './icons';

function HistoryCard({ store, entry }: { store: AppStore; entry: HistoryEntry }) {
  const r = entry.recipe;
  const src = useMemo(() => (entry.thumbnail ? pngDataUrl(entry.thumbnail) : null), [entry.thumbnail]);
  const model = store.models.value.find((m) => m.id === r.modelId);
  return (
    <li class="h-card" data-testid="history-entry">
      <div class="h-thumb">{src ? <img src={src} alt={`Result: ${truncate(r.prompt || entry.name, 80)}`} /> : <span class="muted small">No preview</span>}</div>
      <div class="h-body">
        <div class="h-prompt" title={r.prompt}>{r.prompt || <span class="muted">(no prompt)</span>}</div>
        <div class="muted small">{MODE_LABEL[r.mode]} · {model?.name ?? r.modelId} · {r.width}×{r.height}</div>
        <div class="muted small">Seed {r.seed} · {r.steps} steps · guidance {r.guidance}{r.strength !== undefined ? ` · strength ${r.strength}` : ''}{r.styleNodeId ? ` · style reference ${r.styleStrength ?? ''}` : ''}</div>
        <div class="h-actions">
          <button type="button" class="btn" onClick={() => store.focusNode(entry.nodeId)} aria-label={`Show “${entry.name}” on the canvas`}>Show</button>
          <button type="button" class="btn" disabled={store.running.value} onClick={() => void store.rerunAsync(r, 'rerun')} aria-label={`Re-run with seed ${r.seed}`}>Re-run</button>
          <button type="button" class="btn" disabled={store.running.value} onClick={() => void store.rerunAsync(r, 'variations')} aria-label="Run variations (4 new seeds)">Vary</button>
          <button type="button" class="btn icon ghost" title="Copy seed" onClick={() => void copyTextAsync(String(r.seed))} aria-label={`Copy seed ${r.seed}`}><IconCopy /></button>
        </div>
      </div>
    </li>
  );
}

export function HistoryView({ store }: { store: AppStore }) {
  const entries = store.history.value;
  const state = store.historyState.value;
  return (
    <div class="stack" aria-labelledby="nav-history">
      <div class="row">
        <span class="grow muted">{entries.length} generation{entries.length === 1 ? '' : 's'} in this document</span>
        <button type="button" class="btn" onClick={() => void store.refreshHistoryAsync()} disabled={state === 'loading'}>
          {state === 'loading' ? 'Loading…' : 'Refresh'}
        </button>
      </div>
      {entries.length === 0 && state !== 'loading'
        ? <p class="empty">Nothing generated in this document yet. Results you insert appear here with their recipe.</p>
        : <ul class="history">{entries.map((e) => <HistoryCard key={e.nodeId} store={store} entry={e} />)}</ul>}
    </div>
  );
}
