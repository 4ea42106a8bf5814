/**
 * #15.8 in real Chromium (the app with the fake plugin and engine): a double-click on Generate does not cancel the run
 * it starts; Cancel is not offered while the result is being written; a seed of −1 or 1000 steps get a message at the
 * field instead of being clamped.
 */
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/chromium';
import { serveAppPageAsync } from './app-page-server';

let closeServer: (() => Promise<void>) | undefined;
let base = '';
let browser: Browser;

beforeAll(async () => {
  const served = await serveAppPageAsync();
  base = served.base;
  closeServer = served.closeAsync;
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await closeServer?.();
});

async function openAsync(query: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 360, height: 720 } });
  await page.goto(`${base}?${query}`);
  await page.waitForSelector('.lda[data-ready="true"]');
  await page.waitForFunction(() => (window as any).__t.store.modelsLoaded.value === true);
  return page;
}

describe('run panel and form fields (#15.8)', () => {
  it('a double-click on Generate runs to the end; a deliberate click on Cancel later still cancels', async () => {
    const page = await openAsync('selection=none&stepMs=60');
    await page.getByLabel('Prompt', { exact: true }).fill('a cabin at dusk');
    await page.getByLabel('Steps').fill('6');
    await page.getByLabel('Steps').press('Tab');
    const gen = await page.locator('[data-testid=generate]').boundingBox();
    await page.mouse.dblclick(gen!.x + gen!.width / 2, gen!.y + gen!.height / 2);
    await page.waitForSelector('[data-testid=run-panel]', { state: 'detached', timeout: 10_000 });
    await expect(page.textContent('[data-testid=notice]')).resolves.toMatch(/^Inserted the image/);
    expect(await page.evaluate(() => (window as any).__t.bridge.sent.filter((m: any) => m.type === 'insert-result').length)).toBe(1);

    await page.getByLabel('Steps').fill('40');
    await page.getByLabel('Steps').press('Tab');
    await page.mouse.click(gen!.x + gen!.width / 2, gen!.y + gen!.height / 2);
    await page.waitForTimeout(700);
    const cancel = await page.locator('[data-testid=cancel]').boundingBox();
    await page.mouse.click(cancel!.x + cancel!.width / 2, cancel!.y + cancel!.height / 2);
    await page.waitForSelector('[data-testid=run-panel]', { state: 'detached', timeout: 3000 });
    await expect(page.textContent('[data-testid=notice]')).resolves.toBe('Cancelled.');
    await page.close();
  });

  it('while the result is being written, Cancel is not offered', async () => {
    const page = await openAsync('selection=none&stepMs=60');
    await page.evaluate(() => {
      const s = (window as any).__t.store;
      s.run.value = { jobId: 'j', phase: 'inserting', batchIndex: 0, batchCount: 1, step: 4, total: 4, stage: 'decode', cancelling: false };
    });
    const button = page.locator('[data-testid=cancel]');
    await expect(button.textContent()).resolves.toBe('Inserting…');
    await expect(button.isDisabled()).resolves.toBe(true);
    await page.close();
  });

  it('a seed of −1 and 1000 steps get a message at the field; the values are not clamped', async () => {
    const page = await openAsync('selection=none');
    const before = await page.evaluate(() => (window as any).__t.store.settings.value.seed);
    await page.getByLabel('Seed', { exact: true }).fill('-1');
    await page.getByLabel('Seed', { exact: true }).press('Tab');
    await expect(page.locator('[role=alert][data-testid=field-problem]').first().textContent()).resolves.toBe('Seed must be a whole number from 0 to 4294967295; -1 is out of range.');
    await expect(page.getAttribute('input[aria-invalid=true]', 'id')).resolves.toBeTruthy();
    expect(await page.evaluate(() => (window as any).__t.store.settings.value.seed)).toBe(before);

    const steps = await page.evaluate(() => (window as any).__t.store.params?.value?.steps ?? null);
    await page.getByLabel('Steps').fill('1000');
    await page.getByLabel('Steps').press('Tab');
    await expect(page.getByText(/^Steps must be a whole number from 1 to \d+; 1000 is out of range\.$/).count()).resolves.toBe(1);
    if (steps !== null) expect(await page.evaluate(() => (window as any).__t.store.params.value.steps)).toBe(steps);
    // A valid value clears the message and is taken.
    await page.getByLabel('Seed', { exact: true }).fill('123');
    await page.getByLabel('Seed', { exact: true }).press('Tab');
    expect(await page.evaluate(() => (window as any).__t.store.settings.value.seed)).toBe(123);
    await expect(page.getByText(/^Seed must be/).count()).resolves.toBe(0);
    await page.close();
  });
});
