/** Figma-styled form primitives. Every control gets a real <label> (or aria-label). */
import type { ComponentChildren } from 'preact';
import { useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { numberProblem } from '../field-check';

/**
 * A number box that shows `text` but never overwrites what the user is typing: a re-render while it has focus (a
 * token count arriving, a progress tick) leaves the typed digits alone until they are committed on change/blur.
 */
function useTypedValue(text: string) {
  const ref = useRef<HTMLInputElement>(null);
  useLayoutEffect(() => {
    const el = ref.current;
    if (el && el.ownerDocument.activeElement !== el && el.value !== text) el.value = text;
  });
  return ref;
}

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

/** The message under a field whose typed value was refused (never a silent clamp). */
export function FieldProblem(props: { id: string; problem: string | null }) {
  return props.problem ? <span id={props.id} class="small danger-text" role="alert" data-testid="field-problem">{props.problem}</span> : null;
}

/**
 * A number input that commits valid values on change (typing stays free until blur/enter); an out-of-range or
 * malformed value is not committed and not clamped: the field says what is allowed (field-check.ts).
 */
export function NumberField(props: {
  label: string; value: number; min: number; max: number; step: number; onChange: (v: number) => void;
  id?: string; aside?: ComponentChildren; integer?: boolean;
}) {
  const autoId = useId();
  const id = props.id ?? autoId;
  const [problem, setProblem] = useState<string | null>(null);
  const typed = useTypedValue(String(props.value));
  return (
    <Field label={props.label} htmlFor={id} aside={props.aside}>
      <input
        id={id} ref={typed} type="number" inputMode="decimal" min={props.min} max={props.max} step={props.step}
        aria-invalid={problem ? 'true' : undefined} aria-describedby={problem ? `${id}-problem` : undefined}
        onChange={(e) => {
          const raw = (e.currentTarget as HTMLInputElement).value;
          const p = numberProblem(raw, { label: props.label, min: props.min, max: props.max, integer: props.integer ?? Number.isInteger(props.step) });
          setProblem(p);
          if (!p) props.onChange(Number(raw));
        }}
      />
      <FieldProblem id={`${id}-problem`} problem={problem} />
    </Field>
  );
}

/** Range slider paired with a number box (both labelled). */
export function SliderField(props: {
  label: string; value: number; min: number; max: number; step: number; onChange: (v: number) => void; format?: (v: number) => string;
}) {
  const id = useId();
  const [problem, setProblem] = useState<string | null>(null);
  const typed = useTypedValue(props.format ? props.format(props.value) : String(props.value));
  return (
    <div class="field">
      <div class="field-head"><label for={id}>{props.label}</label></div>
      <div class="slider">
        <input id={id} type="range" min={props.min} max={props.max} step={props.step} value={props.value}
          onInput={(e) => props.onChange(Number((e.currentTarget as HTMLInputElement).value))} />
        <input ref={typed} type="number" aria-label={`${props.label} value`} min={props.min} max={props.max} step={props.step}
          aria-invalid={problem ? 'true' : undefined} aria-describedby={problem ? `${id}-problem` : undefined}
          onChange={(e) => {
            const raw = (e.currentTarget as HTMLInputElement).value;
            const p = numberProblem(raw, { label: props.label, min: props.min, max: props.max });
            setProblem(p);
            if (!p) props.onChange(Number(raw));
          }} />
      </div>
      <FieldProblem id={`${id}-problem`} problem={problem} />
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
