/**
 * After a GPU loss the inline mode's engine worker (models in memory) hands what it holds to a fresh worker: its
 * in-memory files (buffers moved, not copied) and the files picked from a folder. Proven here over MessageChannels
 * with the real engine host and ORT wasm in Node; the whole flow with a real lost device is in
 * device-lost.browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_GPU, nodeOrt as ort } from '../helpers/node-engine';
import { decodePng } from '../../ui/core/image';
import { createEngineAsync } from '../../ui/runtime/engine';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import { attachEngineHost, type PortLike } from '../../ui/runtime/worker/engine-host';
import { handOverValidator, type EngineHandOver, type EngineInitConfig, type WorkerToClient } from '../../ui/runtime/worker-protocol';
import { WORD_COLOURS } from '../models/proof-fixture';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog, type ServedProof } from './proof-catalog-server';


let server: FaultServer;
let proof: ServedProof;
beforeAll(async () => {
  server = await startFaultServerAsync();
  proof = serveProofCatalog(server, [{ id: 'proof-turbo', options: { maxSide: 256 } }, { id: 'proof-cn', options: { controlnet: 'separate', maxSide: 256 } }]);
});
afterAll(async () => { await server.closeAsync(); });

describe('memory store hand-over', () => {
  it('exports every file whole (chunks joined) and a new store holds them as they are, with the reason', async () => {
    const a = createMemoryStore({ reason: 'no origin (detail)' });
    const w = await a.openAppendAsync('models/x/unet.onnx');
    await w.writeAsync(Uint8Array.of(1, 2, 3));
    await w.writeAsync(Uint8Array.of(4, 5));
    await w.closeAsync();
    await a.putAsync('models/x/vocab.json', new TextEncoder().encode('{}'));
    const files = a.exportFiles();
    expect(files.map((f) => [f.path, [...f.data]])).toEqual([['models/x/unet.onnx', [1, 2, 3, 4, 5]], ['models/x/vocab.json', [123, 125]]]);
    const b = createMemoryStore({ files, reason: 'no origin (detail)' });
    expect(b.reason).toBe('no origin (detail)');
    expect(await b.readAsync!('models/x/unet.onnx')).toBe(files[0]!.data); // the same bytes, not a copy
    expect(await b.listAsync()).toEqual([{ path: 'models/x/unet.onnx', bytes: 5 }, { path: 'models/x/vocab.json', bytes: 2 }]);
    expect(() => createMemoryStore({ files: [{ path: '../escape', data: new Uint8Array(1) }] })).toThrow();
  });

  it('the hand-over message is validated', () => {
    expect(() => handOverValidator.validate({ files: [{ path: 'a', data: [1, 2] }], picked: [] })).toThrow(/Uint8Array/);
    expect(() => handOverValidator.validate({ files: [], picked: [{ path: 'a', file: 'x' }] })).toThrow(/Blob/);
    expect(handOverValidator.validate({ files: [], picked: [], reason: 'r' })).toEqual({ files: [], picked: [], reason: 'r' });
  });
});

/** A raw engine worker over a MessageChannel (the real host), spoken to in the worker protocol. */
function worker(config: Partial<EngineInitConfig> = {}) {
  const channel = new MessageChannel();
  attachEngineHost(channel.port1 as unknown as PortLike, { ort, openStoreAsync: async () => createMemoryStore(), probeAdapterAsync: async () => ({ info: NO_GPU }) });
  channel.port1.start();
  const port = channel.port2;
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let readyResolve!: () => void;
  const ready = new Promise<void>((r) => { readyResolve = r; });
  port.onmessage = (e: MessageEvent) => {
    const m = e.data as WorkerToClient;
    if (m.type === 'ready') readyResolve();
    else if (m.type === 'result') waiting.get(m.id)?.resolve(m.value);
    else if (m.type === 'error') waiting.get(m.id)?.reject(m.error);
    else if (m.type === 'init-failed') throw new Error(m.error.message);
  };
  const handOver = config.handOver;
  port.postMessage({ type: 'init', config: { wasm: { kind: 'default' }, policy: 'fast', devCatalogUrl: proof.indexUrl, extraAllowedDomains: [server.url], ...config } },
    handOver ? handOver.files.map((f) => f.data.buffer as ArrayBuffer) : []);
  let id = 1;
  const call = async (method: string, ...args: unknown[]): Promise<unknown> => {
    await ready;
    const n = id++;
    return new Promise((resolve, reject) => {
      waiting.set(n, { resolve, reject });
      port.postMessage({ type: 'call', id: n, method, args });
    });
  };
  return { call, close: () => { channel.port1.close(); port.close(); } };
}

describe('engine worker hand-over (real host, ORT wasm in Node)', () => {
  it('a fresh worker takes over the models in memory: ready at once, nothing downloaded again, and it runs', async () => {
    const a = worker();
    const req = { modelId: 'proof-turbo', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 42 };
    let b: ReturnType<typeof worker> | null = null;
    try {
      await a.call('downloadModel', 'proof-turbo');
      const fetched = server.log.filter((l) => l.path.endsWith('.onnx')).length;

      const handed: EngineHandOver = handOverValidator.validate(await a.call('handOver'));
      expect(handed.files.length).toBeGreaterThan(0);
      expect(handed.picked).toEqual([]);
      expect(handed.reason).toMatch(/origin/);
      a.close();

      b = worker({ handOver: handed });
      const list = await b.call('listModels') as { id: string; status: string }[];
      expect(list.filter((m) => m.id.startsWith('proof-')).map((m) => [m.id, m.status]).sort()).toEqual([['proof-cn', 'not-downloaded'], ['proof-turbo', 'ready']]);
      const caps = await b.call('capabilities') as { persistentStorage?: boolean; storageReason?: string };
      expect(caps).toMatchObject({ persistentStorage: false, storageReason: expect.stringMatching(/origin/) });
      const again = await b.call('generate', req) as { png: Uint8Array };
      expect(server.log.filter((l) => l.path.endsWith('.onnx')).length).toBe(fetched); // nothing downloaded again
      const img = decodePng(again.png);
      expect(Math.abs(img.data[0]! - WORD_COLOURS.red[0])).toBeLessThan(2);
    } finally {
      a.close();
      b?.close();
    }
  });
});

describe('engine picked files hand-over', () => {
  it('files picked from a folder go to the next engine, where the model is ready without its files being read again from disk', async () => {
    const base = { ort, network: { domains: [server.url] }, adapter: NO_GPU, catalog: [], devCatalogUrl: proof.indexUrl, downloadTuning: { sleep: async () => {}, progressIntervalMs: 0 } };
    const storeA = createMemoryStore();
    const a = await createEngineAsync({ ...base, store: storeA });
    const picked = Object.entries(proof.files['proof-cn']!).map(([role, bytes]) => ({ path: `my-models/proof-cn/${role}/model.onnx`, file: new Blob([bytes as BlobPart]) }));
    await a.loadModelFromPickedAsync('proof-cn', picked, () => {});
    const handed = a.pickedFiles();
    expect(handed.length).toBe(picked.length);
    expect(handed.every(([, f]) => picked.some((p) => p.file === f))).toBe(true); // the same File objects, not copies
    await a.closeAsync();
    // The next engine gets the store's files (what the folder load wrote there, e.g. the vocabulary) and the picks.
    const stored = storeA.exportFiles();
    const b = await createEngineAsync({ ...base, store: createMemoryStore({ files: stored }), picked: handed });
    expect((await b.listModelsAsync()).find((m) => m.id === 'proof-cn')!.status).toBe('ready');
    const fresh = await createEngineAsync({ ...base, store: createMemoryStore({ files: stored }) });
    expect((await fresh.listModelsAsync()).find((m) => m.id === 'proof-cn')!.status).not.toBe('ready');
    await b.closeAsync();
    await fresh.closeAsync();
  });
});
