/**
 * Page script for test/runtime/device-lost.browser.test.ts: the real engine client over the test worker
 * (./device-lost-worker.ts). Generates once to warm up, then generates with the GPU device destroyed mid-run, then
 * generates again, and reports what each run returned.
 */
import { createEngineClient } from '../../ui/runtime/engine-client';
import { toAppError } from '../../protocol/errors';
import { decodePng } from '../../ui/core/image';

export interface DeviceLostConfig {
  readonly workerUrl: string; readonly wasmBaseUrl: string; readonly indexUrl: string; readonly allowed: string[]; readonly memoryStore: boolean;
  /** The client's answers to "is a WebGPU adapter there?" in turn (then the real answer); with it, a fourth run. */
  readonly gpuAnswers?: readonly boolean[];
}

type Outcome = ({ ok: true; mean: number[] } | { ok: false; code: string; message: string; hint?: string }) & { before: string; after?: string };

async function runAsync(c: DeviceLostConfig) {
  const channel = new BroadcastChannel('device-lost-test');
  const answers = [...(c.gpuAnswers ?? [])];
  let gpuChecks = 0;
  const events: unknown[] = [];
  channel.onmessage = (e) => events.push(e.data);
  const client = createEngineClient({
    workerUrl: c.workerUrl, wasm: { kind: 'url', baseUrl: c.wasmBaseUrl }, devCatalogUrl: c.indexUrl, extraAllowedDomains: c.allowed,
    allowFallbackAdapter: true, forceProvider: 'webgpu', memoryStore: c.memoryStore,
    ...(c.gpuAnswers ? { gpuAvailableAsync: async () => { gpuChecks++; return answers.length > 0 ? answers.shift()! : navigator.gpu !== undefined; } } : {}),
  });
  const generate = async (): Promise<Outcome> => {
    const c0 = await client.capabilitiesAsync();
    const before = `${c0.provider}: ${c0.reason}`;
    try {
      const r = await client.generateAsync({ modelId: 'proof-turbo', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 4, guidanceScale: 0, seed: 3 }, {});
      const img = decodePng(r.png);
      const mean = [0, 1, 2].map((k) => Array.from(img.data).filter((_, i) => i % 4 === k).reduce((s, v) => s + v, 0) / (img.width * img.height));
      const c1 = await client.capabilitiesAsync();
      return { ok: true, before, after: `${c1.provider}: ${c1.reason}`, mean };
    } catch (err) {
      const e = toAppError(err);
      return { ok: false, before, code: e.code, message: e.message, ...(e.hint ? { hint: e.hint } : {}) };
    }
  };
  try {
    const status = (await client.listModelsAsync()).find((m) => m.id === 'proof-turbo')?.status;
    if (status !== 'ready') await client.downloadModelAsync('proof-turbo', () => {});
    const warm = await generate();
    channel.postMessage('arm');
    await new Promise((r) => setTimeout(r, 200));
    const lost = await generate();
    const after = await generate();
    const again = c.gpuAnswers ? await generate() : undefined;
    return { warm, lost, after, events, ...(again ? { again } : {}), gpuChecks };
  } finally {
    client.terminate();
    channel.close();
  }
}

(window as unknown as { deviceLostTest: unknown }).deviceLostTest = { runAsync };
