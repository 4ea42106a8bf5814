/**
 * Downloads through the engine (#15.1–3, #12.5): Pause/Cancel stop the network and keep what was downloaded (status
 * `paused`), Resume fetches only the rest; at start-up a stored file whose size or hash is wrong is removed and its
 * model shown as needing repair, and Download then fetches only that file.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NO_GPU, nodeOrt as ort } from '../helpers/node-engine';
import { AppError } from '../../protocol/errors';
import { createEngineAsync, type Engine } from '../../ui/runtime/engine';
import crypto from 'node:crypto';
import { parseManifest } from '../../ui/core/manifest';
import { storePathFor } from '../../ui/runtime/catalog';
import { createEngineClient } from '../../ui/runtime/engine-client';
import { attachEngineHost, type PortLike } from '../../ui/runtime/worker/engine-host';
import { createMemoryStore } from '../../ui/runtime/store/memory-store';
import type { ModelStore } from '../../ui/runtime/store/model-store';
import fs from 'node:fs';
import path from 'node:path';
import { ASSETS } from '../helpers/paths';
import { startFaultServerAsync, type FaultServer } from './fault-server';
import { serveProofCatalog, type ServedProof } from './proof-catalog-server';


const VOCAB_URL_PATH = '/eng/tokenizer/vocab.json';
const vocabBytes = new Uint8Array(fs.readFileSync(path.join(ASSETS, 'clip/hf', 'vocab.json')));
let server: FaultServer;
let proof: ServedProof;
beforeAll(async () => {
  server = await startFaultServerAsync();
  proof = serveProofCatalog(server, [{ id: 'proof-turbo', options: { maxSide: 256 } }], '/eng');
});
afterAll(async () => { await server.closeAsync(); });

const engineOn = (store: ModelStore): Promise<Engine> => createEngineAsync({
  ort, store, network: { domains: [server.url] }, adapter: NO_GPU, catalog: [], devCatalogUrl: proof.indexUrl,
  downloadTuning: { sleep: async () => {}, progressIntervalMs: 0, retryDelayMs: () => 0 },
});
const modelFiles = () => server.log.filter((l) => l.path.startsWith('/eng/') && !l.path.endsWith('index.json') && !l.path.endsWith('proof-turbo.json'));
const statusOf = async (e: Engine) => (await e.listModelsAsync()).find((m) => m.id === 'proof-turbo')!;

describe('engine downloads', () => {
  it('the size a model card announces is what Download fetches (tokenizer files included) and the progress total', async () => {
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json' });
    const engine = await engineOn(createMemoryStore());
    const announced = (await statusOf(engine)).totalBytes;
    const before = server.log.length;
    let total = 0;
    await engine.downloadModelAsync('proof-turbo', (p) => { total = p.total; });
    const fetched = server.log.slice(before).filter((l) => l.path.startsWith('/eng/')).reduce((sum, l) => sum + l.sent, 0);
    expect(server.log.slice(before).some((l) => l.path === VOCAB_URL_PATH)).toBe(true);
    expect(announced).toBe(fetched);
    expect(total).toBe(announced);
    expect((await statusOf(engine)).totalBytes).toBe(announced);
  });

  it('Pause stops the download and keeps it (status paused, bytes kept); Resume fetches only the rest', async () => {
    // The largest file of the proof model is the tokenizer vocabulary (862 kB): sent slowly.
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json', trickle: { bytes: 8192, ms: 10 } });
    const store = createMemoryStore();
    const engine = await engineOn(store);
    const before = server.log.length;
    let paused: Promise<void> | null = null;
    const vocabSent = () => server.log.slice(before).filter((l) => l.path === VOCAB_URL_PATH).reduce((s, l) => s + l.sent, 0);
    const run = engine.downloadModelAsync('proof-turbo', () => { if (!paused && vocabSent() > 20_000) paused = engine.pauseDownloadAsync('proof-turbo'); });
    const err = await run.then(() => null, (e: unknown) => e as AppError);
    await paused;
    expect(err).toBeInstanceOf(AppError);
    expect(err!.code).toBe('CANCELLED');
    expect(err!.message).toMatch(/^Download of .* paused; .* of .* kept\.$/);
    const m = await statusOf(engine);
    expect(m.status).toBe('paused');
    expect(m.progress!.bytes).toBeGreaterThan(20_000);
    const part = (await store.listAsync('blobs/')).find((e) => e.path.endsWith('.part'))!;
    expect(part.bytes).toBeGreaterThan(0);
    await new Promise((r) => setTimeout(r, 100));
    const sentAtPause = vocabSent();
    await new Promise((r) => setTimeout(r, 200));
    expect(vocabSent()).toBe(sentAtPause); // the network really stopped
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json' });
    const resumeAt = server.log.length;
    await engine.downloadModelAsync('proof-turbo', () => {});
    expect((await statusOf(engine)).status).toBe('ready');
    const vocabReqs = server.log.slice(resumeAt).filter((l) => l.path === VOCAB_URL_PATH);
    expect(vocabReqs.map((l) => [l.range, l.status])).toEqual([[`bytes=${part.bytes}-`, 206]]);
    expect(vocabReqs[0]!.sent).toBe(vocabBytes.length - part.bytes); // only the rest
    expect(server.log.slice(resumeAt).filter((l) => l.path !== VOCAB_URL_PATH && l.path.startsWith('/eng/proof-turbo/'))).toEqual([]); // finished files not fetched again
  });

  it('Cancel keeps the .part too; Delete removes it', async () => {
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json', trickle: { bytes: 8192, ms: 10 } });
    const store = createMemoryStore();
    const engine = await engineOn(store);
    let stop: Promise<void> | null = null;
    const err = await engine.downloadModelAsync('proof-turbo', (p) => { if (!stop && p.bytes > 20_000 && p.bytes < p.total) stop = engine.cancelDownloadAsync('proof-turbo'); }).then(() => null, (e: unknown) => e as AppError);
    await stop;
    expect(err?.message).toMatch(/cancelled; .* kept/);
    expect((await statusOf(engine)).status).toBe('paused');
    await engine.deleteModelAsync('proof-turbo');
    expect((await statusOf(engine)).status).toBe('not-downloaded');
    expect((await store.listAsync('blobs/')).filter((e) => e.path.endsWith('.part'))).toEqual([]);
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json' });
  });

  it('start-up: a truncated weight file and a same-size damaged vocab are removed, the model needs repair, Download fetches only those', async () => {
    const store = createMemoryStore();
    const first = await engineOn(store);
    await first.downloadModelAsync('proof-turbo', () => {});
    expect((await statusOf(first)).status).toBe('ready');
    const manifest = proof.manifests['proof-turbo']!;
    const unetPath = `blobs/sha256/${manifest.components.unet.files[0].sha256}`;
    const vocabPath = `blobs/sha256/${manifest.tokenizer.vocab.sha256}`;
    const unet = new Uint8Array(await (await store.getAsync(unetPath))!.arrayBuffer());
    await store.putAsync(unetPath, unet.subarray(0, unet.length - 100)); // what a full disk left behind
    const vocab = new Uint8Array(await (await store.getAsync(vocabPath))!.arrayBuffer());
    const bad = vocab.slice();
    bad[bad.indexOf(0x33)] = 0x34; // one digit changed, same size
    await store.putAsync(vocabPath, bad);

    const engine = await engineOn(store);
    const m = await statusOf(engine);
    expect(m.status).toBe('failed');
    expect(m.error?.code).toBe('INTEGRITY_MISMATCH');
    expect(m.error?.message).toMatch(/needs repair: unet\/model\.onnx \(\d+ bytes stored, \d+ expected\), tokenizer\/vocab\.json \(sha256 .*\) were damaged and removed\.$/);
    console.log(`repair: "${m.error?.message}" — ${m.error?.hint}`);
    expect(await store.getAsync(unetPath)).toBeNull();
    expect(await store.getAsync(vocabPath)).toBeNull();
    await expect(engine.generateAsync({ modelId: 'proof-turbo', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 1 }, {}))
      .rejects.toMatchObject({ code: 'MODEL_NOT_READY' });
    const before = server.log.length;
    await engine.downloadModelAsync('proof-turbo', () => {});
    expect(server.log.slice(before).map((l) => l.path).sort()).toEqual(['/eng/proof-turbo/unet/model.onnx', '/eng/tokenizer/vocab.json']);
    expect((await statusOf(engine)).status).toBe('ready');
    const r = await engine.generateAsync({ modelId: 'proof-turbo', mode: 'generate', prompt: 'a red cat', negativePrompt: '', width: 64, height: 64, steps: 1, guidanceScale: 0, seed: 1 }, {});
    expect(r.png.length).toBeGreaterThan(8);
  });

  it('Pause and Resume through the worker protocol (engine client → engine host)', async () => {
    server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json', trickle: { bytes: 8192, ms: 10 } });
    const channel = new MessageChannel();
    attachEngineHost(channel.port1 as unknown as PortLike, { ort, openStoreAsync: async () => createMemoryStore(), probeAdapterAsync: async () => ({ info: NO_GPU }) });
    channel.port1.start();
    const client = createEngineClient({ createWorker: () => channel.port2 as unknown as never, wasm: { kind: 'default' }, devCatalogUrl: proof.indexUrl, extraAllowedDomains: [server.url] });
    try {
      const before = server.log.length;
      const vocabSent = () => server.log.slice(before).filter((l) => l.path === VOCAB_URL_PATH).reduce((s, l) => s + l.sent, 0);
      let paused: Promise<void> | null = null;
      const err = await client.downloadModelAsync('proof-turbo', () => { if (!paused && vocabSent() > 20_000) paused = client.pauseDownloadAsync('proof-turbo'); })
        .then(() => null, (e: unknown) => e as AppError);
      await paused;
      expect(err?.code).toBe('CANCELLED');
      expect(err?.message).toMatch(/paused; .* kept\.$/);
      const m = (await client.listModelsAsync()).find((x) => x.id === 'proof-turbo')!;
      expect(m.status).toBe('paused');
      server.set(VOCAB_URL_PATH, vocabBytes, { contentType: 'application/json' });
      const resumeAt = server.log.length;
      await client.downloadModelAsync('proof-turbo', () => {});
      expect((await client.listModelsAsync()).find((x) => x.id === 'proof-turbo')!.status).toBe('ready');
      expect(server.log.slice(resumeAt).filter((l) => l.path === VOCAB_URL_PATH).map((l) => l.status)).toEqual([206]);
    } finally {
      client.terminate();
      channel.port1.close();
      channel.port2.close();
    }
  });

  it('a file without a pinned sha256: the first download\'s hash is recorded and shown; a later different file is refused', async () => {
    const raw = structuredClone(proof.manifests['proof-turbo']!);
    raw.id = 'proof-tofu';
    const mergesUrl = `${server.url}/eng-tofu/merges.txt`;
    const merges = new Uint8Array(fs.readFileSync(path.join(ASSETS, 'clip/hf', 'merges.txt')));
    server.set('/eng-tofu/merges.txt', merges, { contentType: 'text/plain' });
    raw.tokenizer.merges = { path: 'tokenizer/merges.txt', url: mergesUrl, bytes: merges.length }; // no sha256
    const store = createMemoryStore();
    const make = () => createEngineAsync({
      ort, store, network: { domains: [server.url] }, adapter: NO_GPU, catalog: [{ manifest: parseManifest(raw), origin: 'custom' }],
      downloadTuning: { sleep: async () => {}, progressIntervalMs: 0, retryDelayMs: () => 0 },
    });
    const engine = await make();
    await engine.downloadModelAsync('proof-tofu', () => {});
    const m = (await engine.listModelsAsync()).find((x) => x.id === 'proof-tofu')!;
    expect(m.status).toBe('ready');
    expect(m.recordedHashes).toEqual([{ path: 'tokenizer/merges.txt', sha256: crypto.createHash('sha256').update(merges).digest('hex'), source: 'first-download' }]);
    // The file changes upstream (same size) and the stored copy is lost: the new one is refused.
    const changed = merges.slice();
    changed[100] = changed[100]! ^ 1;
    server.set('/eng-tofu/merges.txt', changed, { contentType: 'text/plain' });
    await store.deleteAsync(storePathFor(mergesUrl));
    const again = await make();
    const err = await again.downloadModelAsync('proof-tofu', () => {}).then(() => null, (e: unknown) => e as AppError);
    expect(err?.code).toBe('INTEGRITY_MISMATCH');
    expect(err?.message).toMatch(/tokenizer\/merges\.txt changed on the server since it was first downloaded/);
    expect(err?.hint).toMatch(/delete the model and download it again/);
    // Delete is how a user accepts the new version.
    await again.deleteModelAsync('proof-tofu');
    await again.downloadModelAsync('proof-tofu', () => {});
    expect((await again.listModelsAsync()).find((x) => x.id === 'proof-tofu')!.status).toBe('ready');
  });
});
