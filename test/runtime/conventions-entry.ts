/**
 * Browser side of conventions.browser.test.ts: runs model sets served by the test through the real runtime
 * (ort-session + session-manager + pipelines) on 'onnxruntime-web/webgpu', in the page (no worker).
 */
import * as ortWeb from 'onnxruntime-web/webgpu';
import { createClipTokenizer } from '../../ui/core/tokenizer/clip-tokenizer';
import type { ModelRole } from '../../ui/core/session';
import type { OrtLike } from '../../ui/runtime/ort-session';
import { runModelSetAsync, type ConventionMode, type ModelFiles } from '../models/convention-run';

export interface ServedSet {
  readonly manifestJson: unknown;
  readonly files: Record<string, { model: string; externalData?: { path: string; url: string }[] }>;
}
export interface PageCase {
  readonly name: string;
  readonly mode: ConventionMode;
  readonly provider: 'webgpu' | 'wasm';
  readonly steps?: number;
  readonly guidance?: number;
  readonly size?: number;
  readonly sets: readonly ServedSet[];
}

const ort = ortWeb as unknown as OrtLike;
const bytes = async (url: string): Promise<Uint8Array> => new Uint8Array(await (await fetch(url)).arrayBuffer());

async function runAsync(base: string, c: PageCase): Promise<{ pixels: number[][]; notes: Record<string, readonly string[]>[]; error?: string }> {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  ort.env.wasm.wasmPaths = { wasm: `${base}/ort/ort-wasm-simd-threaded.asyncify.wasm` } as never;
  ort.env.logLevel = 'error';
  const tokenizer = createClipTokenizer(await (await fetch(`${base}/tok/vocab.json`)).json(), await (await fetch(`${base}/tok/merges.txt`)).text());
  const pixels: number[][] = [];
  const notes: Record<string, readonly string[]>[] = [];
  try {
    for (const set of c.sets) {
      const files: Partial<Record<ModelRole, ModelFiles>> = {};
      for (const [role, f] of Object.entries(set.files)) {
        const ext = f.externalData ? await Promise.all(f.externalData.map(async (e) => ({ path: e.path, data: await bytes(e.url) }))) : undefined;
        files[role as ModelRole] = { model: await bytes(f.model), ...(ext ? { externalData: ext } : {}) };
      }
      const r = await runModelSetAsync({
        ort, provider: c.provider, manifestJson: set.manifestJson, files, tokenizer, mode: c.mode,
        ...(c.steps ? { steps: c.steps } : {}), ...(c.guidance !== undefined ? { guidance: c.guidance } : {}), ...(c.size ? { size: c.size } : {}),
      });
      pixels.push([...r.pixels]);
      notes.push(r.notes);
    }
  } catch (err) {
    return { pixels, notes, error: `${(err as { code?: string }).code ?? 'ERROR'}: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { pixels, notes };
}

(globalThis as unknown as { conventionTest: unknown }).conventionTest = { runAsync };
