import { describe, expect, it } from 'vitest';
import { applyPreset, DEFAULT_SETTINGS, newPresetId, parseSettings, serializeSettings, type Settings } from '../../ui/app/settings';
import { settingsFromRecipe } from '../../ui/app/recipe-form';
import type { Recipe } from '../../protocol/messages';

describe('settings (de)serialisation', () => {
  it('anything that is not an object gives the defaults', () => {
    for (const bad of [undefined, null, 42, 'x', [], true]) expect(parseSettings(bad)).toEqual(DEFAULT_SETTINGS);
  });

  it('round-trips through serialize → JSON → parse unchanged', () => {
    const s: Settings = {
      ...DEFAULT_SETTINGS, prompt: 'a cabin', negativePrompt: 'blurry', presetId: 'photo', seedPolicy: 'increment', seed: 99,
      batchCount: 3, size: { width: 640, height: 384 }, target: 'replace-fill', maskFeather: 12, controlType: 'scribble',
      modelByMode: { generate: 'sd-turbo', wireframe: 'sd15-lineart' }, paramsByModel: { 'sd-turbo': { steps: 2, guidance: 0 } }, theme: 'dark',
    };
    const data = JSON.parse(JSON.stringify(serializeSettings(s)));
    expect(parseSettings(data)).toEqual(s);
  });

  it('keeps valid fields, clamps numbers, drops bad values to defaults', () => {
    const s = parseSettings({
      prompt: 5, seedPolicy: 'sometimes', seed: -3, batchCount: 99, maskFeather: -4, target: 'elsewhere', controlType: 'depth',
      size: { width: 10, height: 512 }, presetId: 'nope', modelByMode: { generate: 'ok', edit: 7, bogus: 'x' },
      paramsByModel: { m: { steps: 1000, guidance: 'hi', strength: 2 }, n: 'bad' },
      extra: 'ignored',
    });
    expect(s.prompt).toBe('');
    expect(s.seedPolicy).toBe('random');
    expect(s.seed).toBe(0xffffffff - 2);
    expect(s.batchCount).toBe(8);
    expect(s.maskFeather).toBe(0);
    expect(s.target).toBe('new-layer');
    expect(s.controlType).toBeNull();
    expect(s.size).toBeNull();
    expect(s.presetId).toBe('none');
    expect(s.modelByMode).toEqual({ generate: 'ok' });
    expect(s.paramsByModel).toEqual({ m: { steps: 150, strength: 1 } });
    expect('extra' in s).toBe(false);
  });

  it('filters malformed and duplicate presets; user presets survive', () => {
    const s = parseSettings({ presets: [{ id: 'a', name: 'A', prompt: 'x' }, { id: 'a', name: 'dup' }, { name: 'no id' }, 7], presetId: 'a' });
    expect(s.presets).toEqual([{ id: 'a', name: 'A', prompt: 'x', negativePrompt: '' }]);
    expect(s.presetId).toBe('a');
    expect(newPresetId(s.presets)).toBe('custom-2');
  });

  it('applies the style preset to both prompts', () => {
    const s = { ...DEFAULT_SETTINGS, prompt: ' a cabin ', negativePrompt: '', presetId: 'photo' };
    const out = applyPreset(s);
    expect(out.prompt).toBe('a cabin, professional photograph, natural light, sharp focus, high detail');
    expect(out.negativePrompt).toBe('illustration, painting, cartoon, blurry, lowres');
    expect(applyPreset({ ...s, presetId: 'none' })).toEqual({ prompt: 'a cabin', negativePrompt: '' });
  });
});

describe('recipe → form', () => {
  const recipe: Recipe = {
    version: 1, mode: 'edit', prompt: 'a cabin, photo', negativePrompt: 'blurry', seed: 777, steps: 12, guidance: 6, strength: 0.4,
    width: 640, height: 384, modelId: 'tiny-sd', sourceNodeIds: ['1:2'], pluginVersion: '0.1.0', createdAt: '2026-01-01T00:00:00Z',
  };
  it('regenerate / re-run: same seed, the user\'s seed policy kept, the recipe model and parameters for its mode', () => {
    const { settings, mode } = settingsFromRecipe({ ...DEFAULT_SETTINGS, presetId: 'photo', batchCount: 4 }, recipe, 'regenerate');
    expect(mode).toBe('edit');
    // the seed policy and image count are the user's; the run itself uses the stored seed (store.rerunAsync)
    expect(settings).toMatchObject({ prompt: 'a cabin, photo', negativePrompt: 'blurry', presetId: 'none', seed: 777, seedPolicy: 'random', batchCount: 4 });
    expect(settings.modelByMode.edit).toBe('tiny-sd');
    expect(settings.paramsByModel['tiny-sd']).toEqual({ steps: 12, guidance: 6, strength: 0.4 });
  });
  it('variations: random seeds', () => {
    const { settings } = settingsFromRecipe(DEFAULT_SETTINGS, recipe, 'variations');
    expect(settings.seedPolicy).toBe('random');
  });
  it('a generate recipe restores its size', () => {
    const { settings } = settingsFromRecipe(DEFAULT_SETTINGS, { ...recipe, mode: 'generate', strength: undefined }, 'rerun');
    expect(settings.size).toEqual({ width: 640, height: 384 });
  });
});
