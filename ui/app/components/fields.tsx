/** Figma-styled form primitives. Every control gets a real <label> (or aria-label). */
import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';

export function Field(props: { label: string; htmlFor: string; aside?: ComponentChildren; children: ComponentChildren }) {
  return (
    <div class="field">
      <div class="field-head">
        <label for={props.htmlFor}>{props.label}</label>
        {props.aside}
      </div>
      {props.children}
    </div>
  );
}

/** A number input that commits clamped values on change (typing stays free until blur/enter). */
export function NumberField(props: {
  label: string; value: number; min: number; max: number; step: number; onChange: (v: number) => void;
  id?: string; aside?: ComponentChildren;
}) {
  const autoId = useId();
  const id = props.id ?? autoId;
  return (
    <Field label={props.label} htmlFor={id} aside={props.aside}>
      <input
        id={id} type="number" inputMode="decimal" value={String(props.value)} min={props.min} max={props.max} step={props.step}
        onChange={(e) => {
          const v = Number((e.currentTarget as HTMLInputElement).value);
          if (Number.isFinite(v)) props.onChange(Math.min(props.max, Math.max(props.min, v)));
          else (e.currentTarget as HTMLInputElement).value = String(props.value);
        }}
      />
    </Field>
  );
}

/** Range slider paired with a number box (both labelled). */
export function SliderField(props: {
  label: string; value: number; min: number; max: number; step: number; onChange: (v: number) => void; format?: (v: number) => string;
}) {
  const id = useId();
  return (
    <div class="field">
      <div class="field-head"><label for={id}>{props.label}</label></div>
      <div class="slider">
        <input id={id} type="range" min={props.min} max={props.max} step={props.step} value={props.value}
          onInput={(e) => props.onChange(Number((e.currentTarget as HTMLInputElement).value))} />
        <input type="number" aria-label={`${props.label} value`} min={props.min} max={props.max} step={props.step}
          value={props.format ? props.format(props.value) : String(props.value)}
          onChange={(e) => {
            const v = Number((e.currentTarget as HTMLInputElement).value);
            if (Number.isFinite(v)) props.onChange(Math.min(props.max, Math.max(props.min, v)));
          }} />
      </div>
    </div>
  );
}

export function SelectField<T extends string>(props: {
  label: string; value: T; options: readonly { value: T; label: string }[]; onChange: (v: T) => void; aside?: ComponentChildren; id?: string;
}) {
  const autoId = useId();
  const id = props.id ?? autoId;
  return (
    <Field label={props.label} htmlFor={id} aside={props.aside}>
      <select id={id} value={props.value} onChange={(e) => props.onChange((e.currentTarget as HTMLSelectElement).value as T)}>
        {props.options.map((o) => <option key={o.value} value={o.value}>{o.label}</option>)}
      </select>
    </Field>
  );
}

/** Copies text; Figma's iframe may deny the async clipboard, so fall back to a hidden textarea + execCommand. */
export async function copyTextAsync(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = document.createElement('textarea');
    ta.value = text;
    ta.setAttribute('readonly', '');
    ta.style.position = 'fixed';
    ta.style.opacity = '0';
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}
