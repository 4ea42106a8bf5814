/**
 * Node side of the converter: reads `@upscalerjs/esrgan-slim` (MIT, a devDependency) from node_modules and converts
 * its ×2/×4 TF.js layers models to ONNX. The build (esbuild.config.mjs) and tests call this; nothing converted is
 * committed. `ESRGAN_SLIM_LICENSE` travels with the shipped model (the bundle carries it next to the bytes).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { convertTfjsLayersToOnnx, readTfjsWeights, type ConvertedModel, type TfjsLayersModelJson, type TfjsWeights } from './esrgan-to-onnx';

export const ESRGAN_SLIM_PACKAGE = '@upscalerjs/esrgan-slim';
export type EsrganSlimScale = 2 | 3 | 4 | 8;

/** The package's folder: the first node_modules up from this file that holds it (the package exports no package.json). */
export function esrganSlimDir(): string {
  const require = createRequire(import.meta.url);
  for (const base of require.resolve.paths(ESRGAN_SLIM_PACKAGE) ?? []) {
    const dir = path.join(base, ESRGAN_SLIM_PACKAGE);
    if (fs.existsSync(path.join(dir, 'package.json'))) return dir;
  }
  throw new Error(`${ESRGAN_SLIM_PACKAGE} is not installed (run npm install)`);
}

export interface EsrganSlimSource {
  readonly model: TfjsLayersModelJson;
  readonly weights: TfjsWeights;
  readonly version: string;
  readonly license: string;
}

export function readEsrganSlim(scale: EsrganSlimScale): EsrganSlimSource {
  const dir = esrganSlimDir();
  const modelDir = path.join(dir, 'models', `x${scale}`);
  const model = JSON.parse(fs.readFileSync(path.join(modelDir, 'model.json'), 'utf8')) as TfjsLayersModelJson;
  const shards = model.weightsManifest.flatMap((g) => g.paths).map((p) => new Uint8Array(fs.readFileSync(path.join(modelDir, p))));
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { version: string };
  return { model, weights: readTfjsWeights(model, shards), version: pkg.version, license: fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8') };
}

export function convertEsrganSlim(scale: EsrganSlimScale): ConvertedModel & { version: string; license: string } {
  const src = readEsrganSlim(scale);
  return { ...convertTfjsLayersToOnnx(src.model, src.weights, `esrgan-slim-x${scale}`), version: src.version, license: src.license };
}
