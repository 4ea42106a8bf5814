/** The Create view: mode tabs, what is selected, prompt, style, mode-specific and advanced settings, seed. */
import { useId, useMemo, useRef, useState } from 'preact/hooks';
import { MODES, type Mode } from '../../../protocol/messages';
import { BOOST_SCALES, boostSizes } from '../../../protocol/boost-size';
import { formatBytes, pngDataUrl } from '../format';
import type { EngineCapabilities, ModelEntry } from '../../contracts/engine';
import { clampParam, modeAvailability, modelControlType, sizeOptions } from '../model-params';
import { MAX_SEED, SEED_POLICIES, normalizeSeed, type SeedPolicy } from '../seed-policy';
import { numberProblem } from '../field-check';
import { formatFactor } from '../full-resolution';
import { CONTROL_TYPES, LIMITS, newPresetId, type ControlType, type InsertTarget, type StylePreset } from '../settings';
import { STYLE_MISSING_HINT, styleMissingMessage, type AppStore, type ErrorField } from '../store';
import { copyTextAsync, Field, FieldProblem, NumberField, SelectField, SliderField } from './fields';
import { IconClose, IconCopy, IconEdit, IconInfo, IconReset, IconWarning } from './icons';

export const MODE_LABEL: Readonly<Record<Mode, string>> = { generate: 'Generate', edit: 'Edit', inpaint: 'Inpaint', wireframe: 'Wireframe', boost: 'Boost' };
const MODE_TITLE: Readonly<Record<Mode, string>> = {
  generate: 'Text to image',
  edit: 'Edit the selection (image to image)',
  inpaint: 'Repaint the area under a mask shape',
  wireframe: 'Wireframe → mockup (ControlNet from the outlines)',
  boost: 'Boost resolution: 2× or 4× the pixels (super-resolution on this device)',
};
const POLICY_LABEL: Readonly<Record<SeedPolicy, string>> = { random: 'Random', fixed: 'Fixed', increment: '+1' };
const POLICY_TITLE: Readonly<Record<SeedPolicy, string>> = {
  random: 'A new random seed every run',
  fixed: 'The same seed every run (reproducible)',
  increment: 'The seed goes up by one every run',
};
const CONTROL_LABEL: Readonly<Record<ControlType, string>> = { lineart: 'Line art', scribble: 'Scribble (thick lines)', canny: 'Canny edges (thin)', mlsd: 'Straight lines (M-LSD)' };

function ModeTabs({ store }: { store: AppStore }) {
  const refs = useRef<(HTMLButtonElement | null)[]>([]);
  const current = store.mode.value;
  const selection = store.selection.value;
  const move = (from: number, dir: number): void => {
    for (let k = 1; k <= MODES.length; k++) {
      const i = (from + dir * k + MODES.length) % MODES.length;
      const m = MODES[i] as Mode;
      if (modeAvailability(selection, m).enabled) {
        store.setMode(m);
        refs.current[i]?.focus();
        return;
      }
    }
  };
  return (
    <div class="segmented" role="tablist" aria-label="Mode">
      {MODES.map((m, i) => {
        const a = modeAvailability(selection, m);
        return (
          <button
            key={m} ref={(el) => { refs.current[i] = el; }} type="button" role="tab" id={`mode-${m}`}
            aria-selected={current === m} aria-disabled={!a.enabled} tabIndex={current === m ? 0 : -1}
            title={a.enabled ? MODE_TITLE[m] : `${MODE_TITLE[m]} — ${a.reason ?? 'not available for this selection'}`}
            onClick={() => { if (a.enabled) store.setMode(m); else store.explainMode(m); }}
            onKeyDown={(e) => {
              if (e.key === 'ArrowRight') { e.preventDefault(); move(i, 1); }
              if (e.key === 'ArrowLeft') { e.preventDefault(); move(i, -1); }
            }}
          >{MODE_LABEL[m]}</button>
        );
      })}
    </div>
  );
}

function PresetEditor({ store, onClose }: { store: AppStore; onClose: () => void }) {
  const s = store.settings.value;
  const preset = s.presets.find((p) => p.id === s.presetId);
  const nameId = useId();
  const posId = useId();
  const negId = useId();
  const patch = (next: Partial<StylePreset>): void => {
    if (!preset) return;
    store.update({ presets: s.presets.map((p) => (p.id === preset.id ? { ...p, ...next } : p)) });
  };
  const add = (): void => {
    if (s.presets.length >= LIMITS.presets) return;
    const id = newPresetId(s.presets);
    store.update({ presets: [...s.presets, { id, name: 'New style', prompt: '', negativePrompt: '' }], presetId: id });
  };
  const remove = (): void => {
    if (!preset) return;
    store.update({ presets: s.presets.filter((p) => p.id !== preset.id), presetId: 'none' });
  };
  return (
    <div class="preset-editor stack" role="group" aria-label="Edit style presets">
      {preset ? (
        <>
          <Field label="Style name" htmlFor={nameId}>
            <input id={nameId} type="text" value={preset.name} maxLength={60} onInput={(e) => patch({ name: (e.currentTarget as HTMLInputElement).value })} />
          </Field>
          <Field label="Added to the prompt" htmlFor={posId}>
            <textarea id={posId} rows={2} value={preset.prompt} onInput={(e) => patch({ prompt: (e.currentTarget as HTMLTextAreaElement).value })} />
          </Field>
          <Field label="Added to the negative prompt" htmlFor={negId}>
            <textarea id={negId} rows={2} value={preset.negativePrompt} onInput={(e) => patch({ negativePrompt: (e.currentTarget as HTMLTextAreaElement).value })} />
          </Field>
        </>
      ) : <p class="muted" style="margin:0">Pick a style to edit it, or add a new one.</p>}
      <div class="row">
        <button type="button" class="btn" onClick={add}>Add style</button>
        {preset && <button type="button" class="btn danger" onClick={remove}>Delete “{preset.name}”</button>}
        <span class="grow" />
        <button type="button" class="btn" onClick={onClose}>Done</button>
      </div>
    </div>
  );
}

function SeedRow({ store }: { store: AppStore }) {
  const s = store.settings.value;
  const seedId = useId();
  const [copied, setCopied] = useState(false);
  const [seedProblem, setSeedProblem] = useState<string | null>(null);
  const last = store.lastSeeds.value;
  const copySeed = last.length > 0 && s.seedPolicy !== 'fixed' ? (last[0] as number) : s.seed;
  return (
    <div class="field">
      <div class="field-head">
        <label for={seedId}>Seed</label>
        {last.length > 0 && <span class="muted small">Last run: {last.length === 1 ? last[0] : `${last[0]}–${last[last.length - 1]}`}</span>}
      </div>
      <div class="row">
        <input id={seedId} class="grow" type="number" min={0} max={0xffffffff} step={1} value={String(s.seed)}
          aria-describedby={`${seedId}-policy`}
          aria-invalid={seedProblem ? 'true' : undefined}
          onChange={(e) => {
            const raw = (e.currentTarget as HTMLInputElement).value;
            const p = numberProblem(raw, { label: 'Seed', min: 0, max: MAX_SEED, integer: true });
            setSeedProblem(p);
            if (!p) store.update({ seed: normalizeSeed(Number(raw)) });
          }} />
        <button type="button" class="btn icon ghost" aria-label={`Copy seed ${copySeed}`} title={copied ? 'Copied' : `Copy seed ${copySeed}`}
          onClick={() => { void copyTextAsync(String(copySeed)).then((ok) => { setCopied(ok); setTimeout(() => setCopied(false), 1200); }); }}>
          <IconCopy />
        </button>
        <div class="segmented compact" role="group" aria-label="Seed policy" id={`${seedId}-policy`}>
          {SEED_POLICIES.map((p) => (
            <button key={p} type="button" aria-pressed={s.seedPolicy === p} title={POLICY_TITLE[p]} aria-label={`Seed: ${POLICY_TITLE[p]}`}
              onClick={() => store.update({ seedPolicy: p })}>{POLICY_LABEL[p]}</button>
          ))}
        </div>
      </div>
      <FieldProblem id={`${seedId}-problem`} problem={seedProblem} />
      {copied && <span class="small ok-text" role="status">Seed copied.</span>}
    </div>
  );
}

/** An error that belongs to one control, shown right there (the banner only takes errors of no control). */
export function FieldError({ store, field }: { store: AppStore; field: ErrorField }) {
  const e = store.error.value;
  if (!e || e.field !== field) return null;
  return (
    <div class="callout error" role="alert" data-testid="error" data-field={field}>
      <span class="callout-icon danger-text"><IconWarning /></span>
      <div class="grow"><p class="callout-title">{e.message}</p>{e.hint && <p>{e.hint}</p>}</div>
      <button type="button" class="btn icon ghost" aria-label="Dismiss" onClick={() => { store.error.value = null; }}><IconClose /></button>
    </div>
  );
}

/** Inline mode's one limit, in one plain sentence with the way out. */
export const INLINE_LIMIT = 'This version of the plugin can’t keep models after you close it, so they download again next time; to keep them, load them from a folder on your disk or use the hosted version of the plugin.';

/** The smallest model that can Generate and runs well here (32-bit when the GPU has no 16-bit shaders). */
export function recommendedModel(models: readonly ModelEntry[], caps: EngineCapabilities | null): ModelEntry | null {
  const usable = models.filter((m) => m.capabilities.txt2img);
  const runsWell = caps && !caps.shaderF16 ? usable.filter((m) => m.dtype !== 'float16') : usable;
  const pool = runsWell.length > 0 ? runsWell : usable;
  return [...pool].sort((a, b) => a.totalBytes - b.totalBytes)[0] ?? null;
}

function DownloadProgress({ model: m }: { model: ModelEntry }) {
  const p = m.progress;
  if (m.status !== 'downloading' || !p) return null;
  const pct = p.total > 0 ? Math.min(100, Math.round((p.bytes / p.total) * 100)) : 0;
  return (
    <div class="stack" style="gap:4px" data-testid="get-started-progress">
      <div class="progress" role="progressbar" aria-label={`Downloading ${m.name}`} aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct}><div style={{ width: `${pct}%` }} /></div>
      <span class="small muted">{formatBytes(p.bytes)} of {formatBytes(p.total)} ({pct}%)</span>
    </div>
  );
}

/** The chosen model is not downloaded: say so once, with its download (progress in place) and the way to Models. */
function ModelCallout({ store }: { store: AppStore }) {
  const model = store.model.value;
  const err = store.error.value?.field === 'model' ? store.error.value : null;
  const starter = getStartedModel(store);
  // While the Get started card offers the first download, it is the one message about models.
  if (!model || model.status === 'ready' || (starter && !err)) return err ? <FieldError store={store} field="model" /> : null;
  return (
    <div class="callout warning" data-testid="model-not-ready">
      <span class="callout-icon"><IconWarning /></span>
      <div class="grow stack" style="gap:4px">
        {err
          ? <div role="alert" data-testid="error" data-field="model"><p class="callout-title">{err.message}</p>{err.hint && <p>{err.hint}</p>}</div>
          : <p>{model.name} {model.status === 'downloading' ? 'is downloading.' : `needs to be downloaded first (${formatBytes(model.totalBytes)}).`}</p>}
        <DownloadProgress model={model} />
        {store.capabilities.value?.persistentStorage === false && <p class="small muted">{INLINE_LIMIT}</p>}
        <div class="row">
          {model.status !== 'downloading' && <button type="button" class="btn" onClick={() => void store.downloadAsync(model.id)}>Download {formatBytes(model.totalBytes)}</button>}
          <button type="button" class="link" onClick={() => store.openModels(model.id)}>Open Models</button>
        </div>
      </div>
    </div>
  );
}

/** The model the Get started card offers: only while nothing is downloaded and no run is waiting for another one. */
function getStartedModel(store: AppStore): ModelEntry | null {
  const models = store.models.value;
  if (!store.modelsLoaded.value || models.some((m) => m.status === 'ready') || store.pendingRun.value) return null;
  return recommendedModel(models, store.capabilities.value);
}

/** First open: one card that downloads the smallest model this device runs well, with progress in place. */
function GetStarted({ store }: { store: AppStore }) {
  const m = getStartedModel(store);
  if (!m) return null;
  const caps = store.capabilities.value;
  return (
    <section class="card get-started" aria-labelledby="get-started-title" data-testid="get-started">
      <div class="card-title" id="get-started-title">Get started</div>
      <p style="margin:0">Download <strong>{m.name}</strong> ({formatBytes(m.totalBytes)}), the smallest model that runs well on this {caps?.provider === 'webgpu' ? 'GPU' : 'computer'}. Images and prompts never leave your computer.</p>
      {m.status === 'downloading' ? <DownloadProgress model={m} /> : (
        <div class="row">
          <button type="button" class="btn primary" onClick={() => void store.downloadAsync(m.id)}>Download {formatBytes(m.totalBytes)}</button>
          <button type="button" class="link" onClick={() => store.openModels()}>Other models</button>
        </div>
      )}
      {m.status === 'failed' && m.error && <p class="small danger-text" role="alert">{m.error.message}</p>}
      {caps?.persistentStorage === false && <p class="small muted" data-testid="inline-limit">{INLINE_LIMIT}</p>}
    </section>
  );
}

export function CreateView({ store }: { store: AppStore }) {
  const s = store.settings.value;
  const mode = store.mode.value;
  const model = store.model.value;
  const capable = store.capableModels.value;
  const params = store.params.value;
  const tokens = store.tokens.value;
  const selection = store.selection.value;
  const [editingPresets, setEditingPresets] = useState(false);
  const promptId = useId();
  const negId = useId();
  const modelId = useId();
  const size = store.generateSize.value;
  const sizes = sizeOptions(model);
  const match = s.size === null;
  const sizeValue = match ? 'match' : `${size.width}x${size.height}`;
  const native = modelControlType(model);
  const inpaintOff = !modeAvailability(selection, 'inpaint').enabled;

  return (
    <div class="stack" role="tabpanel" aria-labelledby={`mode-${mode}`}>
      <ModeTabs store={store} />
      {store.tabHelp.value && <div class="callout info" role="status" data-testid="tab-help"><span class="callout-icon"><IconInfo /></span><p class="grow">{store.tabHelp.value}</p></div>}
      <div class="hint" aria-live="polite" data-testid="selection-hint"><IconInfo /><span>{store.hintLine.value}</span></div>
      {selection?.problem && (
        <div class="callout warning" role="status" data-testid="selection-problem">
          <span class="callout-icon"><IconWarning /></span><p>{selection.problem}</p>
        </div>
      )}
      {inpaintOff && mode !== 'inpaint' && !selection?.problem && (
        <p class="small muted how-to" data-testid="inpaint-how">To inpaint, draw a shape over the part of an image to change, then select the image and the shape.</p>
      )}
      <FieldError store={store} field="selection" />
      {store.relaunchNote.value && <div class="callout info" role="status" data-testid="relaunch-note"><p>{store.relaunchNote.value}</p></div>}
      <GetStarted store={store} />
      {mode === 'boost' ? <BoostFields store={store} /> : <>

      <ModelCallout store={store} />
      {store.modelsLoaded.value && capable.length === 0 && (
        <div class="callout warning"><span class="callout-icon"><IconWarning /></span>
          <p class="grow">None of the available models can do {MODE_LABEL[mode]}.</p>
          <button type="button" class="link" onClick={() => store.openModels()}>Open Models</button>
        </div>
      )}

      <Field
        label="Prompt" htmlFor={promptId}
        aside={tokens && (
          <span class={`counter${tokens.dropped > 0 ? ' over' : ''}`} id={`${promptId}-count`} data-testid="token-counter"
            title="Tokens in the prompt (with the style) / the model's limit">
            {tokens.count} / {tokens.limit} tokens{tokens.dropped > 0 ? ` · ${tokens.dropped} dropped` : ''}
          </span>
        )}
      >
        <textarea id={promptId} rows={3} value={s.prompt} maxLength={LIMITS.prompt}
          aria-describedby={tokens ? `${promptId}-count` : undefined}
          placeholder={mode === 'generate' ? 'Describe the image you want…' : mode === 'wireframe' ? 'Describe what the mockup shows…' : 'Describe how the result should look…'}
          onInput={(e) => store.update({ prompt: (e.currentTarget as HTMLTextAreaElement).value })} />
      </Field>
      <FieldError store={store} field="prompt" />

      <SelectField
        label="Style" value={s.presetId}
        options={[{ value: 'none', label: 'None' }, ...s.presets.map((p) => ({ value: p.id, label: p.name }))]}
        onChange={(v) => store.update({ presetId: v })}
        aside={<button type="button" class="link" aria-expanded={editingPresets} onClick={() => setEditingPresets(!editingPresets)}>
          <span style="display:inline-flex;align-items:center;gap:2px"><IconEdit />{editingPresets ? 'Close styles' : 'Edit styles'}</span>
        </button>}
      />
      {editingPresets && <PresetEditor store={store} onClose={() => setEditingPresets(false)} />}

      {(mode === 'edit' || mode === 'inpaint') && (
        <SliderField label="Strength (how much changes)" value={params.strength} min={0} max={1} step={0.05} format={(v) => v.toFixed(2)}
          onChange={(v) => store.setParam('strength', clampParam.strength(v))} />
      )}

      <FullResolutionField store={store} />
      <StyleReferenceField store={store} />

      <details class="advanced" open={s.advanced} data-testid="advanced"
        onToggle={(e) => { const open = (e.currentTarget as HTMLDetailsElement).open; if (open !== s.advanced) store.update({ advanced: open }); }}>
        <summary>Advanced</summary>
        <div class="stack">
          <Field label="Model" htmlFor={modelId}>
            <select id={modelId} value={model?.id ?? ''} disabled={capable.length === 0} onChange={(e) => store.setModel((e.currentTarget as HTMLSelectElement).value)}>
              {capable.length === 0 && <option value="">No model can do {MODE_LABEL[mode]}</option>}
              {capable.map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name}{m.status === 'ready' ? '' : m.status === 'downloading' ? ' — downloading…' : ` — not downloaded (${formatBytes(m.totalBytes)})`}
                </option>
              ))}
            </select>
          </Field>
          <Field label="Negative prompt" htmlFor={negId}>
            <textarea id={negId} rows={2} value={s.negativePrompt} maxLength={LIMITS.prompt} placeholder="Things to avoid (optional)"
              onInput={(e) => store.update({ negativePrompt: (e.currentTarget as HTMLTextAreaElement).value })} />
          </Field>
          {mode === 'generate' && (
            <SelectField
              label="Size" value={sizeValue}
              options={[
                { value: 'match', label: store.matchSize.value ? `Match selection · ${store.matchSize.value.width}×${store.matchSize.value.height}` : 'Match selection (model default when nothing is selected)' },
                ...sizes.map((o) => ({ value: `${o.width}x${o.height}`, label: `${o.label} · ${o.width}×${o.height}` })),
              ]}
              onChange={(v) => {
                if (v === 'match') { store.update({ size: null }); return; }
                const [w, h] = v.split('x').map(Number);
                store.update({ size: { width: w as number, height: h as number } });
              }}
            />
          )}
          {mode === 'inpaint' && (
            <SliderField label="Mask feather (px)" value={s.maskFeather} min={0} max={LIMITS.maskFeather.max} step={1}
              onChange={(v) => store.update({ maskFeather: clampParam.maskFeather(v) })} />
          )}
          {mode === 'wireframe' && (
            <>
              <SelectField
                label="Control type" value={store.controlType.value}
                options={CONTROL_TYPES.map((c) => ({ value: c, label: `${CONTROL_LABEL[c]}${c === native ? ' (model’s own)' : ''}` }))}
                onChange={(v) => store.update({ controlType: v })}
              />
              <SliderField label="Control strength" value={params.controlScale} min={0} max={LIMITS.controlScale.max} step={0.05} format={(v) => v.toFixed(2)}
                onChange={(v) => store.setParam('controlScale', clampParam.controlScale(v))} />
            </>
          )}
          <div class="grid2">
            <NumberField label="Steps" value={params.steps} min={LIMITS.steps.min} max={LIMITS.steps.max} step={1} onChange={(v) => store.setParam('steps', clampParam.steps(v))} />
            <NumberField label="Guidance" value={params.guidance} min={LIMITS.guidance.min} max={LIMITS.guidance.max} step={0.5} onChange={(v) => store.setParam('guidance', clampParam.guidance(v))} />
          </div>
          <div class="grid2">
            <NumberField label="Images" value={s.batchCount} min={LIMITS.batchCount.min} max={LIMITS.batchCount.max} step={1} onChange={(v) => store.update({ batchCount: clampParam.batchCount(v) })} />
            <SelectField<InsertTarget>
              label="Insert as" value={s.target}
              options={[{ value: 'new-layer', label: 'New layer' }, { value: 'replace-fill', label: 'Fill of the selection' }]}
              onChange={(v) => store.update({ target: v })}
            />
          </div>
          <FieldError store={store} field="target" />
          {model && (
            <div class="row small muted">
              <span class="grow">Defaults for {model.name}: {model.defaults.steps} step{model.defaults.steps === 1 ? '' : 's'}, guidance {model.defaults.guidance_scale}</span>
              <button type="button" class="link" onClick={() => store.resetParams()}>
                <span style="display:inline-flex;align-items:center;gap:2px"><IconReset />Reset</span>
              </button>
            </div>
          )}
          <SeedRow store={store} />
        </div>
      </details>
      </>}
    </div>
  );
}

/**
 * Generate / Edit: “Full resolution” — the layer's pixels at 2× (upscale + tiled refine after the image is made),
 * with the size it makes and what it costs in time, or why it can't be used here.
 */
function FullResolutionField({ store }: { store: AppStore }) {
  const plan = store.fullResolutionPlan.value;
  if (!plan) return null;
  const on = store.settings.value.fullResolution;
  const id = 'full-resolution';
  const t = plan.target;
  return (
    <div class="field" data-testid="full-resolution-field">
      <label class="row" style="gap:6px;align-items:center" for={id}>
        <input id={id} type="checkbox" data-testid="full-resolution" checked={on && plan.available} disabled={!plan.available}
          aria-describedby={`${id}-cost`}
          onChange={(e) => store.update({ fullResolution: (e.currentTarget as HTMLInputElement).checked })} />
        <span>Full resolution{plan.available && t ? ` · ${t.width}×${t.height} px` : ''}</span>
      </label>
      <p class="small muted" id={`${id}-cost`} data-testid="full-resolution-cost" style="margin:0">
        {plan.available && plan.working
          ? `Sharp when zoomed to 200% and in 2× exports: made in ${plan.working.width}×${plan.working.height}, then refined in ${plan.tiles} tile${plan.tiles === 1 ? '' : 's'} — takes about ${formatFactor(plan.factor ?? 1)} as long. Cancel stops it any time.`
          : plan.reason}
      </p>
    </div>
  );
}

/**
 * Style reference: the look of one image applied to the result (a server's IP-Adapter or style model). The designer
 * selects the reference image and presses “Use selection” (remembered with a thumbnail; Replace / Clear), then selects
 * the target and generates. Off with the reason on this device's engine; its problems show here, before any run.
 */
function StyleReferenceField({ store }: { store: AppStore }) {
  const avail = store.styleAvailability.value;
  const ref = store.styleRef.value;
  const missing = store.styleMissing.value;
  const on = store.styleActive.value;
  const thumb = useMemo(() => (ref?.thumbnail ? pngDataUrl(ref.thumbnail) : null), [ref?.thumbnail]);
  const missingThumb = useMemo(() => (missing?.thumbnail ? pngDataUrl(missing.thumbnail) : null), [missing?.thumbnail]);
  const id = useId();
  if (!avail.shown) return null;
  return (
    <div class="field stack style-ref" style="gap:6px" data-testid="style-ref" role="group" aria-labelledby={`${id}-label`}>
      <label class="row" style="gap:6px;align-items:center" id={`${id}-label`}>
        <input type="checkbox" data-testid="style-toggle" checked={on} disabled={!avail.enabled}
          aria-describedby={avail.reason ? `${id}-reason` : undefined}
          onChange={(e) => store.setStyleEnabled((e.currentTarget as HTMLInputElement).checked)} />
        Style reference <span class="muted small">(apply the look of another image)</span>
      </label>
      {avail.reason && <p class="small muted" style="margin:0" id={`${id}-reason`} data-testid="style-unavailable">{avail.reason}</p>}
      {on && missing && !ref && store.error.value?.field !== 'style' && (
        <div class="callout warning" role="status" data-testid="style-missing">
          <span class="callout-icon"><IconWarning /></span>
          <div class="grow"><p class="callout-title">{styleMissingMessage(missing.name)}</p><p>{STYLE_MISSING_HINT}</p></div>
        </div>
      )}
      {on && (
        <>
          <div class="row" style="gap:8px;align-items:center">
            {ref ? (
              <>
                {thumb ? <img src={thumb} alt={`Style reference: ${ref.name}`} data-testid="style-thumb" style="width:40px;height:40px;object-fit:cover;border-radius:4px;border:1px solid var(--border, #ccc)" /> : null}
                <span class="grow small" data-testid="style-name" title={ref.name} style="overflow:hidden;text-overflow:ellipsis;white-space:nowrap">{ref.name}</span>
              </>
            ) : missing
              ? <span class="grow">{missingThumb ? <img src={missingThumb} alt={`The missing style reference: ${missing.name}`} style="width:40px;height:40px;object-fit:cover;border-radius:4px;opacity:0.45;filter:grayscale(1)" /> : null}</span>
              : <span class="grow small muted" data-testid="style-empty">Select the image whose look you want, then press “Use selection”.</span>}
            <button type="button" class="btn" data-testid="style-pick" disabled={store.stylePicking.value} onClick={() => void store.pickStyleAsync()}>
              {ref ? 'Replace' : 'Use selection'}
            </button>
            {ref && <button type="button" class="btn ghost" data-testid="style-clear" onClick={() => store.clearStyle()}>Clear</button>}
          </div>
          <SliderField label="Style strength" value={store.styleStrength.value} min={0} max={1} step={0.05} format={(v) => v.toFixed(2)}
            onChange={(v) => { store.styleStrength.value = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0.8)); }} />
        </>
      )}
      <FieldError store={store} field="style" />
    </div>
  );
}

/** Boost: the factor, where the result goes, and the built-in upscaler (no model to pick or download). */
function BoostFields({ store }: { store: AppStore }) {
  const s = store.settings.value;
  const scale = store.boostScale.value;
  const first = store.selection.value?.nodes[0];
  const sizes = first ? boostSizes(first.width, first.height, scale) : null;
  return (
    <>
      <div class="field">
        <div class="field-head"><span id="boost-scale-label">Scale</span></div>
        <div class="segmented" role="group" aria-labelledby="boost-scale-label" data-testid="boost-scale">
          {BOOST_SCALES.map((k) => (
            <button key={k} type="button" aria-pressed={scale === k} onClick={() => { store.boostScale.value = k; }}>×{k}</button>
          ))}
        </div>
      </div>
      {sizes && (
        <p class="small muted" data-testid="boost-size" style="margin:0">
          {Math.round(first!.width)}×{Math.round(first!.height)} → {sizes.result.width}×{sizes.result.height} px
          {sizes.capped ? ` (read at ${sizes.source.width}×${sizes.source.height} to stay within 4096 px)` : ''}
        </p>
      )}
      <SelectField<InsertTarget>
        label="Insert as" value={s.target}
        options={[{ value: 'new-layer', label: 'New layer' }, { value: 'replace-fill', label: 'Fill of the selection' }]}
        onChange={(v) => store.update({ target: v })}
      />
      <label class="row small" style="gap:6px;align-items:center">
        <input type="checkbox" checked={store.boostRefine.value} data-testid="boost-refine"
          onChange={(e) => { store.boostRefine.value = (e.currentTarget as HTMLInputElement).checked; }} />
        Refine after upscaling (adds detail with {store.refineModel.value?.name ?? 'a downloaded Edit model'} and the prompt)
      </label>
      {store.boostRefine.value && (
        <>
          {!store.refineModel.value && (
            <div class="callout warning"><span class="callout-icon"><IconWarning /></span>
              <p class="grow">Refining needs a downloaded model that can edit images.</p>
              <button type="button" class="link" onClick={() => { store.view.value = 'models'; }}>Open Models</button>
            </div>
          )}
          <SliderField label="Refine strength" value={store.boostRefineStrength.value} min={0.05} max={0.6} step={0.05} format={(v) => v.toFixed(2)}
            onChange={(v) => { store.boostRefineStrength.value = Math.min(0.6, Math.max(0.05, v)); }} />
          <Field label="Prompt (for the refine pass)" htmlFor="boost-prompt">
            <textarea id="boost-prompt" rows={2} value={s.prompt} maxLength={LIMITS.prompt} placeholder="What the image shows, e.g. a stone house with a red roof"
              onInput={(e) => store.update({ prompt: (e.currentTarget as HTMLTextAreaElement).value })} />
          </Field>
        </>
      )}
      <p class="small muted" style="margin:0">
        Upscaler: ESRGAN-slim ×{scale} (UpscalerJS, MIT), built into the plugin — nothing to download. Runs in tiles, on the GPU when there is one.
      </p>
    </>
  );
}
