/**
 * The fake must run in a browser too (the harness bundles it with esbuild): bundle test/fake-figma for the browser
 * platform, load it in Chromium, build the demo document, export a frame and render the page there, and compare
 * with the same calls in Node.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { decodePng } from '../../ui/core/image';
import { createDemoDocument, createFakeFigma } from '../fake-figma';
import { launchChromium } from '../helpers/chromium';
import { ROOT } from '../helpers/paths';

let browser: Browser;
let bundle: string;

beforeAll(async () => {
  const out = await build({
    stdin: {
      contents: "import * as fake from './test/fake-figma'; (globalThis as any).fakeFigma = fake;",
      resolveDir: ROOT,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  bundle = out.outputFiles[0]!.text;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
});

describe('fake-figma in Chromium', () => {
  it('bundles for the browser without Node built-ins and renders like Node', async () => {
    expect(bundle).not.toMatch(/require\(["']node:/);
    const page = await browser.newPage();
    try {
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.setContent('<!doctype html><body></body>');
      await page.addScriptTag({ content: bundle });
      const result = await page.evaluate(async () => {
        const fake = (globalThis as any).fakeFigma;
        const { figma, host } = fake.createFakeFigma({ pluginId: 'p' });
        const ids = await fake.createDemoDocument(figma);
        const card = await figma.getNodeByIdAsync(ids.photoCard);
        const png: Uint8Array = await card.exportAsync({ format: 'PNG', constraint: { type: 'WIDTH', value: 200 } });
        const img = host.renderPage();
        // the harness draws renderPage() with putImageData
        const canvas = document.createElement('canvas');
        canvas.width = img.width;
        canvas.height = img.height;
        canvas.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
        return { png: Array.from(png), page: [img.width, img.height], origin: host.pageOrigin(), hit: host.hitTest(780 + 295, 135) === ids.blemish };
      });
      expect(errors).toEqual([]);
      const { figma, host } = createFakeFigma({ pluginId: 'p' });
      const ids = await createDemoDocument(figma);
      const nodePng = await host.nodeById<FrameNode>(ids.photoCard)!.exportAsync({ format: 'PNG', constraint: { type: 'WIDTH', value: 200 } });
      const a = decodePng(new Uint8Array(result.png));
      const b = decodePng(nodePng);
      expect([a.width, a.height]).toEqual([200, 150]);
      expect(Buffer.from(a.data).equals(Buffer.from(b.data))).toBe(true);
      expect(result.page).toEqual([host.renderPage().width, host.renderPage().height]);
      expect(result.origin).toEqual(host.pageOrigin());
      expect(result.hit).toBe(true);
    } finally {
      await page.close();
    }
  });
});
