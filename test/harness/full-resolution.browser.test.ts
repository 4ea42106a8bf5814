/**
 * Issue #12 point 9, "Generate enough pixels for the frame at 2×", in the harness, both UI modes: select the 720×450
 * Hero frame, turn on "Full resolution" (it says the size and the time it costs), Generate (inline) / Edit (hosted)
 * → a 720×450 layer whose fill is a 1440×900 image, scale mode FILL (the picture is not cropped), the recipe records
 * it; the hosted run is first cancelled during its refine pass (nothing inserted), the inline one first fails because
 * the frame is resized meanwhile (one message, at the selection, and no Figma toast besides). Real built plugin, UI, worker and
 * engine on the proof model (the refine pass really runs: img2img in 512-px tiles with blended seams).
 * One browser for the file, one page per mode. Screenshots: test-results/full-resolution-<mode>[-refining].png.
 */
import { describe, expect, it, vi } from 'vitest';
import path from 'node:path';
import { ARTIFACTS } from '../helpers/paths';
import {
  downloadModelAsync, imageAsync, newResults, openAdvancedAsync, openHarnessAsync, resultsAsync, selectAsync, waitForResultsAsync, type Mode, useHarness,
} from './harness-helpers';

vi.setConfig({ testTimeout: 240_000 });
const POLL = { timeout: 60_000 };

const harness = useHarness('harness-build-full-resolution');

describe('harness: Full resolution', () => {
  for (const mode of ['inline', 'hosted'] as const satisfies readonly Mode[]) {
    const tab = mode === 'inline' ? 'Generate' : 'Edit';
    it(`${mode}: ${tab} into the 720×450 frame gives it a 1440×900 fill, not cropped${mode === 'hosted' ? ', after a cancelled try' : ', after a try a resize of the frame stopped (one message, no toast)'}`, async () => {
      const { page, ui, errors } = await openHarnessAsync(harness.browser, harness.server.url, mode, mode === 'hosted' ? '&theme=dark' : '');
      const ids: Record<string, string> = await page.evaluate(() => (window as any).__harness.ids);
      await downloadModelAsync(ui, 'proof-turbo');
      await selectAsync(page, [ids.hero!]);
      await ui.getByRole('tab', { name: tab }).click();
      await openAdvancedAsync(ui);
      await ui.getByLabel('Model', { exact: true }).selectOption('proof-turbo');
      await ui.getByLabel('Prompt', { exact: true }).fill('red');

      // The control says what it makes and what it costs before anything runs.
      const box = ui.getByTestId('full-resolution');
      await expect.poll(() => ui.getByTestId('full-resolution-field').textContent(), POLL).toMatch(/Full resolution · 1440×900 px/);
      expect(await ui.getByTestId('full-resolution-cost').textContent()).toMatch(/made in 640×384, then refined in 8 tiles — takes about [\d.]+× as long\. Cancel stops it any time\./);
      await box.check();
      const before = await resultsAsync(page);

      if (mode === 'hosted') {
        // Cancel during the refine pass: nothing goes into the document.
        await ui.getByTestId('generate').click();
        await expect.poll(() => ui.getByTestId('run-step').textContent().catch(() => ''), POLL).toMatch(/Full resolution: refining tile [1-8]\/8/);
        await page.screenshot({ path: path.join(ARTIFACTS, `full-resolution-${mode}-refining.png`) });
        await ui.getByTestId('cancel').click();
        await expect.poll(() => ui.getByTestId('notice').textContent().catch(() => ''), POLL).toBe('Cancelled.');
        expect((await resultsAsync(page)).length).toBe(before.length);
      } else {
        // Issue #12: an error shows once, at the control that can fix it — not also as a Figma toast. The frame is
        // resized while the image is refined: the insert is refused (nothing written), one message at the selection.
        const toasts = (): Promise<{ error: boolean }[]> => page.evaluate(() => (window as any).__harness.host.notifications);
        const toastsBefore = (await toasts()).length;
        await ui.getByTestId('generate').click();
        await expect.poll(() => ui.getByTestId('run-step').textContent().catch(() => ''), POLL).toMatch(/Full resolution: refining/);
        await page.evaluate((id) => (window as any).__harness.figma.getNodeByIdAsync(id).then((n: any) => n.resize(700, 450)), ids.hero!);
        const err = ui.getByTestId('error');
        await err.first().waitFor({ timeout: 60_000 });
        expect(await err.count()).toBe(1);
        expect(await err.getAttribute('data-field')).toBe('selection');
        expect(await err.textContent()).toMatch(/'Hero' was resized from 720×450 to 700×450 while the image was being made\. Nothing was inserted\./);
        expect((await toasts()).length).toBe(toastsBefore);
        expect((await resultsAsync(page)).length).toBe(before.length);
        await page.evaluate((id) => (window as any).__harness.figma.getNodeByIdAsync(id).then((n: any) => n.resize(720, 450)), ids.hero!);
        // Changing the selection clears the stale message.
        await selectAsync(page, []);
        await expect.poll(() => err.count(), POLL).toBe(0);
        await selectAsync(page, [ids.hero!]);
        await ui.getByRole('tab', { name: tab }).click();
        expect(await box.isChecked()).toBe(true);
      }

      await ui.getByTestId('generate').click();
      await waitForResultsAsync(page, ui, before.length + 1);
      await expect.poll(() => ui.getByTestId('notice').textContent().catch(() => ''), POLL).toMatch(/Inserted the full-resolution image, 1440×900 px/);
      const [result] = newResults(before, await resultsAsync(page));
      expect(result).toBeDefined();
      // Beside the frame, the frame's size on the canvas, one image fill shown whole (FILL: no crop).
      expect({ type: result!.type, width: result!.width, height: result!.height, y: result!.y, fill: result!.fill }).toEqual({ type: 'RECTANGLE', width: 720, height: 450, y: 0, fill: 'IMAGE' });
      const scaleMode = await page.evaluate((id) => (window as any).__harness.figma.currentPage.findOne((n: any) => n.id === id).fills[0].scaleMode, result!.id);
      expect(scaleMode).toBe('FILL');
      const png = await imageAsync(page, result!.hash!);
      expect({ w: png.width, h: png.height }).toEqual({ w: 1440, h: 900 });
      // The proof model pulls the picture toward the prompt's colour, the refine pass included: red everywhere.
      for (const [fx, fy] of [[0.1, 0.1], [0.5, 0.5], [0.9, 0.9]] as const) {
        const i = (Math.floor(fy * png.height) * png.width + Math.floor(fx * png.width)) * png.channels;
        expect(png.data[i]!).toBeGreaterThan(png.data[i + 2]!);
      }
      expect(result!.recipe).toMatchObject({ mode: tab.toLowerCase(), width: 640, height: 384, fullResolution: { width: 1440, height: 900, strength: 0.3 } });
      await page.screenshot({ path: path.join(ARTIFACTS, `full-resolution-${mode}.png`) });
      expect(errors).toEqual([]);
      await page.close();
    });
  }
});
