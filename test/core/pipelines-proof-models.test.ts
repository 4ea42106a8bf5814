/**
 * The proof models themselves (test/models/proof-model.ts): real I/O names, and the analytic behaviour the pipeline
 * tests rely on, checked through onnxruntime-web against JS formulas.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { HostTensor } from '../../ui/core/tensor';
import { createOrtNodeSource, type OrtNodeSource } from '../helpers/ort-node-source';
import { colourVocabulary, createColourProofModel, loadClipTokenizer, WORD_COLOURS } from '../models/proof-fixture';
import {
  byteToUnit, latentToRgb, PROOF_CONTROL_GAIN, proofManifestJson, proofSigmaTable, RESIDUAL_NAMES, rgbToLatent, SD_TURBO_SCHEDULER,
} from '../models/proof-model';
import { parseManifest } from '../../ui/core/manifest';

const sources: OrtNodeSource[] = [];
afterAll(async () => {
  for (const s of sources) await s.closeAsync();
});

const f32 = (dims: number[], data: ArrayLike<number>): HostTensor => ({ kind: 'host', dtype: 'float32', dims, data: Float32Array.from(data) });
const vals = (t: unknown): Float32Array => (t as HostTensor).data as Float32Array;

describe('proof models', () => {
  const tok = loadClipTokenizer();
  const red = rgbToLatent(WORD_COLOURS.red.map(byteToUnit));

  it('decodes M·(M⁺·rgb) back to rgb (the pseudo-inverse is right)', () => {
    const rgb = [0.3, -0.5, 0.7];
    latentToRgb(rgbToLatent(rgb)).forEach((v, i) => expect(v).toBeCloseTo(rgb[i]!, 12));
  });

  it('declares the same inputs/outputs in the manifest as in the ONNX graphs', async () => {
    for (const variant of [{}, { unet: '9ch' as const }, { controlnet: 'separate' as const }, { controlnet: 'fused' as const }, { guidanceEmbeddingDim: 256 },
      { ioDtype: 'float16' as const, timestepDtype: 'float16' as const, controlnet: 'separate' as const }]) {
      const pm = createColourProofModel(variant);
      const src = createOrtNodeSource(pm.models);
      sources.push(src);
      for (const [role, spec] of Object.entries(pm.manifest.components)) {
        const s = await src.acquireAsync(role as never);
        expect([...s.inputNames].sort(), role).toEqual(spec!.inputs.map((i) => i.name).sort());
        expect([...s.outputNames].sort(), role).toEqual(spec!.outputs.map((i) => i.name).sort());
        await src.doneWithAsync(role as never);
      }
    }
  });

  it('text encoder + UNet: predicts the exact noise of a·x0 + b·ε for the prompt, at int and fractional timesteps', async () => {
    for (const timestepDtype of ['int64', 'float32'] as const) {
      const pm = createColourProofModel({ timestepDtype });
      const src = createOrtNodeSource(pm.models);
      sources.push(src);
      const te = await src.acquireAsync('text_encoder');
      const ids = tok.encode('a red cat', { padTokenId: 49407, maxLength: 77 }).ids;
      const hidden = (await te.runAsync({ input_ids: { kind: 'host', dtype: 'int32', dims: [1, 77], data: ids } })).last_hidden_state as HostTensor;
      expect(hidden.dims).toEqual([1, 77, 8]);
      const unet = await src.acquireAsync('unet');
      const table = proofSigmaTable(SD_TURBO_SCHEDULER);
      for (const t of timestepDtype === 'int64' ? [999, 499, 0] : [977.25, 12.5, 999]) {
        const lo = Math.floor(t);
        const sigma = table[lo]! + (t - lo) * ((table[Math.min(lo + 1, 999)] ?? 0) - table[lo]!);
        const a = 1 / Math.sqrt(sigma * sigma + 1);
        const b = sigma * a;
        const eps = Array.from({ length: 4 * 64 }, (_, i) => Math.sin(i * 1.7) * 1.3);
        const sample = eps.map((e, i) => a * red[Math.floor(i / 64)]! + b * e);
        const timestep: HostTensor = timestepDtype === 'int64'
          ? { kind: 'host', dtype: 'int64', dims: [1], data: BigInt64Array.from([BigInt(t)]) }
          : f32([1], [t]);
        const out = vals((await unet.runAsync({ sample: f32([1, 4, 8, 8], sample), timestep, encoder_hidden_states: hidden })).out_sample);
        const maxErr = eps.reduce((m, e, i) => Math.max(m, Math.abs(e - out[i]!)), 0);
        expect(maxErr, `t=${t}`).toBeLessThan(2e-4);
      }
    }
  });

  it('VAE: decode(z) = sf·M·z upsampled ×8 nearest; sf·encode(decode(x/sf)) = x', async () => {
    const pm = createColourProofModel();
    const src = createOrtNodeSource(pm.models);
    sources.push(src);
    const dec = await src.acquireAsync('vae_decoder');
    const enc = await src.acquireAsync('vae_encoder');
    const sf = pm.manifest.vaeScalingFactor;
    const z = Array.from({ length: 4 * 2 * 2 }, (_, i) => Math.cos(i) * 0.8);
    const img = vals((await dec.runAsync({ latent_sample: f32([1, 4, 2, 2], z.map((v) => v / sf)) })).sample);
    expect(img.length).toBe(3 * 16 * 16);
    for (const [y, x] of [[0, 0], [7, 15], [12, 3], [15, 15]] as const) {
      const cell = (Math.floor(y / 8) * 2 + Math.floor(x / 8));
      const rgb = latentToRgb([0, 1, 2, 3].map((k) => z[k * 4 + cell]!));
      for (let c = 0; c < 3; c++) expect(img[c * 256 + y * 16 + x]).toBeCloseTo(rgb[c]!, 5);
    }
    const back = vals((await enc.runAsync({ sample: f32([1, 3, 16, 16], img) })).latent_sample).map((v) => v * sf);
    // Round trip is exact up to the latent null space of M: compare decoded colours.
    for (let cell = 0; cell < 4; cell++) {
      const want = latentToRgb([0, 1, 2, 3].map((k) => z[k * 4 + cell]!));
      const got = latentToRgb([0, 1, 2, 3].map((k) => back[k * 4 + cell]!));
      got.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 5));
    }
  });

  it('ControlNet: residual i = (i+1)·scale·0.5·M⁺·avgpool(cond), with double conditioning_scale', async () => {
    const pm = createColourProofModel({ controlnet: 'separate' });
    const src = createOrtNodeSource(pm.models);
    sources.push(src);
    const cn = await src.acquireAsync('controlnet');
    const cond = new Float32Array(3 * 64 * 64).fill(1); // white
    const out = await cn.runAsync({
      sample: f32([1, 4, 8, 8], new Float32Array(256)),
      timestep: { kind: 'host', dtype: 'int64', dims: [1], data: BigInt64Array.from([999n]) },
      encoder_hidden_states: f32([1, 77, 8], new Float32Array(77 * 8)),
      controlnet_cond: f32([1, 3, 64, 64], cond),
      conditioning_scale: { kind: 'host', dtype: 'float64', dims: [1], data: Float64Array.from([2]) },
    });
    expect(Object.keys(out).sort()).toEqual([...RESIDUAL_NAMES].sort());
    const r = rgbToLatent([1, 1, 1]).map((v) => v * PROOF_CONTROL_GAIN * 2);
    RESIDUAL_NAMES.forEach((name, i) => {
      const d = vals(out[name]);
      expect(d[0]).toBeCloseTo(r[0]! * (i + 1), 4);
      expect(d[3 * 64 + 5]).toBeCloseTo(r[3]! * (i + 1), 4);
    });
  });

  it('exports its manifest JSON with chosen URLs and hashes, and that JSON parses back', () => {
    const pm = createColourProofModel({ controlnet: 'separate' });
    const json = proofManifestJson(pm, { url: (role) => `https://models.test/${role}.onnx`, sha256: (b) => (b.length % 16).toString(16).repeat(64) });
    const back = parseManifest(JSON.parse(JSON.stringify(json)));
    expect(back.components.controlnet!.files[0]!.url).toBe('https://models.test/controlnet.onnx');
    expect(back.components.unet!.files[0]!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(back.components.unet!.files[0]!.bytes).toBe(pm.models.unet!.length);
  });

  it('knows the colour words as single tokens', () => {
    expect(colourVocabulary(tok).size).toBe(5);
  });
});
