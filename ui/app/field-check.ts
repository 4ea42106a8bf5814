/**
 * Checks what a user typed into a number field. Out-of-range or malformed input is never clamped silently (a seed
 * of −1 used to become 4294967295): the field keeps its last good value and says what is allowed, at the field.
 */
export interface NumberRule {
  readonly label: string;
  readonly min: number;
  readonly max: number;
  /** Whole numbers only (seed, steps). */
  readonly integer?: boolean;
}

/** The problem with `raw` (plain words, naming the field and the allowed range), or null when it is a valid value. */
export function numberProblem(raw: string, rule: NumberRule): string | null {
  const text = raw.trim();
  const range = `${rule.integer ? 'a whole number' : 'a number'} from ${rule.min} to ${rule.max}`;
  if (text === '') return `${rule.label} needs a value: ${range}.`;
  const v = Number(text);
  if (!Number.isFinite(v)) return `${rule.label} must be ${range}; “${text.length > 20 ? `${text.slice(0, 20)}…` : text}” is not a number.`;
  if (rule.integer && !Number.isInteger(v)) return `${rule.label} must be ${range}; ${text} is not a whole number.`;
  if (v < rule.min || v > rule.max) return `${rule.label} must be ${range}; ${text} is out of range.`;
  return null;
}

/** Whether a prompt has anything visible in it (zero-width characters, BOMs and bidi controls alone do not count). */
export function isBlankPrompt(text: string): boolean {
  return text.replace(/[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\u061C\uFEFF]/g, '').trim().length === 0;
}
