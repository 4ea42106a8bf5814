import { describe, expect, it, vi } from 'vitest';
import { parsePluginToUi, parseUiToPlugin, receive, type Recipe } from '../../protocol/messages';
import { AppError, toAppError } from '../../protocol/errors';
import * as v from '../../protocol/validate';

const PNG = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0]);
const recipe: Recipe = {
  version: 1, mode: 'generate', prompt: 'a red fox', negativePrompt: '', seed: 42, steps: 4, guidance: 1,
  width: 512, height: 512, modelId: 'sd-turbo', sourceNodeIds: [], pluginVersion: '0.1.0', createdAt: '2026-11-24T00:00:00Z',
};
const insert = {
  type: 'insert-result', requestId: 'r1', jobId: 'j1', png: PNG, width: 512, height: 512,
  placement: { x: 0, y: 0, width: 512, height: 512, content: { x: 0, y: 0, width: 512, height: 512 } },
  recipe, target: 'new-layer', batchIndex: 0, batchCount: 1,
};

describe('protocol', () => {
  it('accepts a well-formed insert-result and keeps the PNG bytes', () => {
    const parsed = parseUiToPlugin(insert);
    expect(parsed.ok).toBe(true);
    if (parsed.ok && parsed.message.type === 'insert-result') expect(parsed.message.png).toBe(PNG);
  });

  it('rejects unknown types, naming the allowed ones', () => {
    const parsed = parseUiToPlugin({ type: 'delete-everything', requestId: 'x' });
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toMatch(/At type: expected one of "ui-ready"/);
  });

  it('rejects malformed fields with a path', () => {
    const bad = { ...insert, png: [1, 2, 3] };
    const parsed = parseUiToPlugin(bad);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.reason).toBe('At png: expected a Uint8Array, got an array of 3');

    const badRecipe = parseUiToPlugin({ ...insert, recipe: { ...recipe, steps: 500 } });
    expect(badRecipe.ok).toBe(false);
    if (!badRecipe.ok) expect(badRecipe.reason).toContain('At recipe.steps: expected an integer in [1, 150], got 500');
  });

  it('rejects other typed arrays and non-plain settings (only Uint8Array crosses)', () => {
    expect(parseUiToPlugin({ ...insert, png: new Float32Array(16) }).ok).toBe(false);
    expect(parseUiToPlugin({ type: 'save-settings', requestId: 'r', settings: { f: () => 1 } }).ok).toBe(false);
    expect(parseUiToPlugin({ type: 'save-settings', requestId: 'r', settings: { a: [1, 'x', null, new Uint8Array(2)] } }).ok).toBe(true);
  });

  it('drops unknown keys so forwarded values carry nothing extra', () => {
    const parsed = parseUiToPlugin({ type: 'ui-ready', requestId: 'r', evil: 1 });
    expect(parsed.ok && parsed.message).toEqual({ type: 'ui-ready', requestId: 'r' });
  });

  it('receive() drops malformed messages with a warning instead of throwing', () => {
    const warn = vi.fn();
    expect(receive(parsePluginToUi, { type: 'init' }, warn)).toBeNull();
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^Dropped a malformed message: At requestId/));
    expect(receive(parsePluginToUi, null, warn)).toBeNull();
    expect(receive(parsePluginToUi, { type: 'ack', requestId: 'a' }, warn)).toEqual({ type: 'ack', requestId: 'a' });
  });

  it('errors round-trip as plain data', () => {
    const e = new AppError('INVALID_SELECTION', 'Frame "Hero" is locked.', { hint: 'Unlock it.' });
    const back = AppError.fromData(e.toData());
    expect(back).toBeInstanceOf(AppError);
    expect(back.toData()).toEqual({ code: 'INVALID_SELECTION', message: 'Frame "Hero" is locked.', hint: 'Unlock it.' });
    const parsed = parsePluginToUi({ type: 'error', requestId: 'r', error: e.toData() });
    expect(parsed.ok).toBe(true);
    expect(toAppError(new Error('boom')).code).toBe('INTERNAL');
    expect(toAppError(Object.assign(new Error('x'), { name: 'AbortError' })).code).toBe('CANCELLED');
  });

  it('validators report paths for nested arrays', () => {
    const val = v.object({ files: v.array(v.object({ sha256: v.string({ pattern: /^[0-9a-f]{64}$/, patternName: '64 hex characters' }) })) });
    expect(() => val.validate({ files: [{ sha256: 'a'.repeat(64) }, { sha256: 'abc' }] })).toThrow('At files.1.sha256: expected 64 hex characters, got "abc"');
  });
});

describe('validation messages read as English (#15.8)', () => {
  it('"got an object", not "got a Object"; class instances keep their name with the right article', () => {
    const why = (value: unknown): string => {
      const parsed = parseUiToPlugin({ type: 'focus-node', requestId: 'f', nodeId: value });
      return parsed.ok ? 'accepted' : parsed.reason;
    };
    expect(why({})).toBe('At nodeId: expected a non-empty string, got an object');
    expect(why(Object.create(null))).toBe('At nodeId: expected a non-empty string, got an object');
    expect(why(JSON.parse('{"constructor":{"name":"Evil"}}'))).toBe('At nodeId: expected a non-empty string, got an object');
    expect(why(new Error('x'))).toBe('At nodeId: expected a non-empty string, got an Error');
    expect(why(new Float32Array(2))).toBe('At nodeId: expected a non-empty string, got a Float32Array');
    expect(why(new Uint8Array(3))).toBe('At nodeId: expected a non-empty string, got a Uint8Array of 3 bytes');
  });
});

describe('records refuse prototype keys', () => {
  it('an own "__proto__" key in a record is refused, naming it', () => {
    const rec = v.record(v.string());
    expect(() => rec.validate(JSON.parse('{"a":"x","__proto__":{"polluted":"yes"}}'))).toThrow('At __proto__: a key named "__proto__" is not allowed');
    expect(rec.validate({ a: 'x', constructor: 'y' })).toEqual({ a: 'x', constructor: 'y' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
