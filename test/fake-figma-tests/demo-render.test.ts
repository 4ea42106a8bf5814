import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodePng, encodePng } from '../../ui/core/image';
import { createDemoDocument, createFakeFigma } from '../fake-figma';
import { ARTIFACTS } from '../helpers/paths';

describe('demo document', () => {
  it('builds and renders', async () => {
    const t0 = performance.now();
    const { figma, host } = createFakeFigma({ pluginId: 'p' });
    const ids = await createDemoDocument(figma);
    const t1 = performance.now();
    const page = host.renderPage();
    const t2 = performance.now();
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.writeFileSync(path.join(ARTIFACTS, 'fake-figma-page.png'), encodePng(page));
    const hero = await (figma.currentPage.findOne((n) => n.id === ids.hero) as FrameNode).exportAsync({ format: 'PNG', constraint: { type: 'WIDTH', value: 512 } });
    const img = decodePng(hero);
    console.log('demo', (t1 - t0).toFixed(0), 'ms; page', page.width, page.height, (t2 - t1).toFixed(0), 'ms; hero', img.width, img.height);
    expect(img.width).toBe(512);
    expect(host.mutations.length).toBe(0);
  });
});
