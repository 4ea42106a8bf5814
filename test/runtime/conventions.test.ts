/**
 * The export-convention matrix in Node (onnxruntime-web, wasm): the same analytic model saved in each convention seen
 * in the wild gives the same image (≤ 1/255) as the reference convention, through the real runtime (binding,
 * dtype/rank conversion, external data) and the real pipelines, with a manifest that only declares the standard
 * names. Odd user-added exports either run or stop with MODEL_MISMATCH naming their real I/O.
 * The same matrix runs in Chromium (WebGPU where the dtype allows) in conventions.browser.test.ts.
 */
import { describe, expect, it } from 'vitest';
import * as ortModule from 'onnxruntime-web';
import { AppError } from '../../protocol/errors';
import type { OrtLike } from '../../ui/runtime/ort-session';
import { maxPixelDiff, runModelSetAsync } from '../models/convention-run';
import { buildConvention, buildReference, CONVENTIONS, ODD_EXPORTS, type Convention } from '../models/conventions';
import { loadClipTokenizer } from '../models/proof-fixture';

const ort = ortModule as unknown as OrtLike;
ort.env.wasm.numThreads = 1;
const tokenizer = loadClipTokenizer();

const run = (c: Convention, set: ReturnType<typeof buildReference>) =>
  runModelSetAsync({ ort, provider: 'wasm', manifestJson: set.manifestJson, files: set.files, tokenizer, mode: c.mode, size: c.size ?? 64, ...(c.steps ? { steps: c.steps } : {}), ...(c.guidance !== undefined ? { guidance: c.guidance } : {}) });

describe('export-convention matrix (Node, wasm)', () => {
  for (const c of CONVENTIONS) {
    it(`${c.name} gives the reference image (≤ 1/255)`, async () => {
      const ref = await run(c, buildReference(c));
      const got = await run(c, buildConvention(c));
      expect(maxPixelDiff(got.pixels, ref.pixels)).toBeLessThanOrEqual(1);
      // The reference image is not black (the proof model paints the prompt's colour).
      expect(ref.pixels.some((v, i) => i % 4 !== 3 && v > 0)).toBe(true);
    });
  }
});

describe('odd user-added exports (Node, wasm): run, or stop naming the real I/O', () => {
  for (const c of ODD_EXPORTS) {
    it(`${c.name}: ${c.refusal ? 'stops with MODEL_MISMATCH naming its I/O' : 'runs and gives the reference image'}`, async () => {
      if (c.refusal) {
        const err = await run(c, buildConvention(c)).then(() => null, (e: unknown) => e);
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('MODEL_MISMATCH');
        expect((err as AppError).message, (err as AppError).message).toMatch(c.refusal);
      } else {
        const ref = await run(c, buildReference(c));
        const got = await run(c, buildConvention(c));
        expect(maxPixelDiff(got.pixels, ref.pixels)).toBeLessThanOrEqual(1);
      }
    });
  }
});
