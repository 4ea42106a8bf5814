/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * UI settings persisted in figma.clientStorage (key 'settings'; 5 MB per plugin in total, shared with nothing
 * else here). The value is opaque plain data owned by the UI; the plugin only checks its size and reads `theme`.
 */
import { AppError } from '../protocol/errors';
import * as v from '../protocol/validate';

export const SETTINGS_KEY = 'settings';
/** Largest settings value stored (bytes, Uint8Array counted at its length, the rest as JSON). */
export const MAX_SETTINGS_BYTES = 256 * 1024;

const plain = v.plainData();

/** Approximate stored size, as clientStorage counts it (JSON length; Uint8Array at its byte length). */
export function storedSize(value: unknown): number {
  if (value instanceof Uint8Array) return value.length;
  if (Array.isArray(value)) return 2 + value.reduce<number>((n, x) => n + storedSize(x) + 1, 0);
  if (value && typeof value === 'object') {
    return 2 + Object.entries(value).reduce((n, [k, x]) => n + k.length + 3 + storedSize(x) + 1, 0);
  }
  return value === undefined ? 0 : JSON.stringify(value).length;
}

/** Saved settings, or `{}` when none or unreadable (a broken value never blocks the plugin). */
export async function loadSettingsAsync(figma: PluginAPI): Promise<unknown> {
  try {
    const value: unknown = await figma.clientStorage.getAsync(SETTINGS_KEY);
    if (value === undefined || value === null) return {};
    return plain.validate(value);
  } catch (err) {
    console.warn(`Ignored unreadable saved settings: ${err instanceof Error ? err.message : String(err)}`);
    return {};
  }
}

/** Saves settings; throws AppError INVALID_INPUT when larger than MAX_SETTINGS_BYTES, STORAGE_UNAVAILABLE on failure. */
export async function saveSettingsAsync(figma: PluginAPI, settings: unknown): Promise<void> {
  const size = storedSize(settings);
  if (size > MAX_SETTINGS_BYTES) {
    throw new AppError('INVALID_INPUT', `The settings are ${Math.round(size / 1024)} kB; at most ${MAX_SETTINGS_BYTES / 1024} kB can be saved.`, {
      hint: 'Clear the prompt history or saved presets.',
    });
  }
  try {
    await figma.clientStorage.setAsync(SETTINGS_KEY, settings);
  } catch (err) {
    throw new AppError('STORAGE_UNAVAILABLE', `Figma could not save the settings (${err instanceof Error ? err.message : String(err)}).`, { cause: err });
  }
}

/**
 * The UI theme. Figma's main thread has no theme API: inline UIs get Figma's theme through `themeColors` CSS
 * variables; for the hosted UI (no CSS variables) the theme is the saved setting `theme`, default 'light'.
 */
export function themeFrom(settings: unknown): 'light' | 'dark' {
  const t = settings && typeof settings === 'object' ? (settings as { theme?: unknown }).theme : undefined;
  return t === 'dark' ? 'dark' : 'light';
}
