import { describe, expect, it } from 'vitest';
import {
  chooseMode, effectiveParams, effectiveSize, fitWorkingSize, modeAvailability, modelsForMode, pickModel, selectionHintLine,
  sizeOptions, workingSizeRequest,
} from '../../ui/app/model-params';
import { FAKE_MODELS } from './fake-engine';
import { SELECTIONS } from './fake-bridge';
import type { SelectionInfo } from '../../protocol/messages';

const byId = (id: string) => FAKE_MODELS.find((m) => m.id === id)!;

describe('models per mode', () => {
  it('filters by manifest capabilities', () => {
    expect(modelsForMode(FAKE_MODELS, 'generate').map((m) => m.id)).toEqual(['tiny-sd', 'sd15-lineart', 'sd-turbo']);
    expect(modelsForMode(FAKE_MODELS, 'edit').map((m) => m.id)).toEqual(['tiny-sd', 'sd15-lineart', 'sd-turbo']);
    expect(modelsForMode(FAKE_MODELS, 'inpaint').map((m) => m.id)).toEqual(['tiny-sd', 'sd15-inpaint']);
    expect(modelsForMode(FAKE_MODELS, 'wireframe').map((m) => m.id)).toEqual(['sd15-lineart']);
  });

  it('picks the remembered model when capable, else a ready one', () => {
    expect(pickModel(FAKE_MODELS, 'generate', 'sd-turbo')?.id).toBe('sd-turbo');
    expect(pickModel(FAKE_MODELS, 'wireframe', 'sd-turbo')?.id).toBe('sd15-lineart');
    expect(pickModel(FAKE_MODELS, 'inpaint', undefined)?.id).toBe('tiny-sd');
    expect(pickModel([byId('sd15-inpaint')], 'generate', undefined)).toBeNull();
  });
});

describe('defaults from the manifest', () => {
  it('uses the manifest defaults unless overridden', () => {
    expect(effectiveParams(byId('sd15-lineart'), undefined)).toEqual({ steps: 20, guidance: 7.5, strength: 0.75, controlScale: 0.9 });
    expect(effectiveParams(byId('sd-turbo'), { steps: 2 })).toEqual({ steps: 2, guidance: 0, strength: 0.5, controlScale: 1 });
  });

  it('working size keeps the aspect near the default area, snapped to the multiple and capped by max_side', () => {
    const req = workingSizeRequest(byId('tiny-sd'));
    expect(req).toEqual({ maxSide: 768, multiple: 64, targetArea: 512 * 512 });
    expect(fitWorkingSize(1440, 900, req)).toEqual({ width: 640, height: 384 });
    expect(fitWorkingSize(100, 100, req)).toEqual({ width: 512, height: 512 });
    expect(fitWorkingSize(5000, 100, req)).toEqual({ width: 768, height: 64 });
    expect(fitWorkingSize(390, 844, req)).toEqual({ width: 320, height: 768 });
    expect(fitWorkingSize(1000, 500, req, [{ width: 512, height: 512 }, { width: 768, height: 512 }])).toEqual({ width: 768, height: 512 });
  });

  it('offers aspect-ratio sizes at the default area, or only the fixed sizes', () => {
    const opts = sizeOptions(byId('tiny-sd'));
    expect(opts[0]).toEqual({ label: 'Square', width: 512, height: 512 });
    for (const o of opts) { expect(o.width % 64).toBe(0); expect(o.height % 64).toBe(0); expect(Math.max(o.width, o.height)).toBeLessThanOrEqual(768); }
    const fixed = { ...byId('tiny-sd'), sizes: { ...byId('tiny-sd').sizes, fixed: [{ width: 512, height: 512 }] } };
    expect(sizeOptions(fixed)).toEqual([{ label: 'Square', width: 512, height: 512 }]);
    expect(effectiveSize(fixed, { width: 640, height: 384 })).toEqual({ width: 512, height: 512 });
    expect(effectiveSize(byId('tiny-sd'), { width: 640, height: 448 })).toEqual({ width: 640, height: 448 });
  });
});

describe('mode availability', () => {
  it('follows the selection and explains disabled modes', () => {
    expect(modeAvailability(SELECTIONS.frame, 'edit')).toEqual({ enabled: true });
    expect(modeAvailability(SELECTIONS.frame, 'inpaint').enabled).toBe(false);
    expect(modeAvailability(SELECTIONS.frame, 'inpaint').reason).toMatch(/mask/);
    expect(modeAvailability(SELECTIONS.locked, 'edit').reason).toMatch(/locked/);
    expect(modeAvailability(null, 'generate').enabled).toBe(true);
    expect(modeAvailability(null, 'edit').enabled).toBe(false);
  });

  it('chooses the proposed mode, else keeps the current one when still possible', () => {
    expect(chooseMode(SELECTIONS.imageWithMask, 'generate')).toBe('inpaint');
    const odd: SelectionInfo = { ...SELECTIONS.frame, proposedMode: 'inpaint' };
    expect(chooseMode(odd, 'wireframe')).toBe('wireframe');
    expect(chooseMode(odd, 'inpaint')).toBe('generate');
  });

  it('writes the hint line with the working size', () => {
    const m = byId('tiny-sd');
    expect(selectionHintLine(SELECTIONS.frame, 'edit', m, { width: 512, height: 512 })).toBe("Frame 'Hero' 1440×900 → will be edited at 640×384");
    expect(selectionHintLine(SELECTIONS.none, 'generate', m, { width: 512, height: 512 })).toBe('Nothing selected → a new 512×512 image');
    expect(selectionHintLine(null, 'generate', m, { width: 512, height: 512 })).toMatch(/Reading/);
  });
});
