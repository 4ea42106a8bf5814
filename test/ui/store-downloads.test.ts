/** The app store's download controls (#12.5): Pause is not a failure, the card shows Paused, Resume finishes. */
import { describe, expect, it } from 'vitest';
import { createAppStore } from '../../ui/app/store';
import { createFakeBridge } from './fake-bridge';
import { createFakeEngine } from './fake-engine';
import { createRecordingRasterizer } from './fake-raster';

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('waitFor timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('app store downloads', () => {
  it('Pause stops the download without an error; the model shows Paused with the bytes kept; Resume completes', async () => {
    const engine = createFakeEngine({ stepMs: 5, downloadChunks: 10, downloadChunkMs: 30 });
    const store = createAppStore({ bridge: createFakeBridge({}), engine, uiMode: 'hosted' }, { raster: createRecordingRasterizer(), random: () => 0.5, saveDelayMs: 30, tokenDelayMs: 10 });
    await store.startAsync();
    const model = () => store.models.value.find((m) => m.id === 'sd-turbo')!;
    const run = store.downloadAsync('sd-turbo', { confirmed: true });
    await waitFor(() => (model().progress?.bytes ?? 0) > 0);
    await store.stopDownloadAsync('sd-turbo', 'pause');
    await run;
    expect(model().status).toBe('paused');
    expect(model().error).toBeUndefined();
    expect(model().progress!.bytes).toBeGreaterThan(0);
    await store.downloadAsync('sd-turbo', { confirmed: true });
    expect(model().status).toBe('ready');
    store.dispose();
  });
});
