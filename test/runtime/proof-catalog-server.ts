/**
 * Serves the pipelines engineer's analytic proof models (test/models) as a model catalogue on the fault server:
 * `/proof/index.json`, one manifest per model with sha256-pinned files, and the real CLIP tokenizer files.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createColourProofModel } from '../models/proof-fixture';
import type { ProofModelOptions } from '../models/proof-model';
import { ASSETS } from '../helpers/paths';
import { clipTokenizerEntries } from '../helpers/clip-tokenizer-files';
import type { FaultServer } from './fault-server';

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest('hex');

export interface ServedProof {
  readonly indexUrl: string;
  /** Manifest JSON (raw, with absolute URLs) per id. */
  readonly manifests: Record<string, Record<string, any>>;
  /** ONNX bytes per id and role. */
  readonly files: Record<string, Record<string, Uint8Array>>;
}

export function serveProofCatalog(server: FaultServer, specs: readonly { id: string; options?: ProofModelOptions }[], prefix = '/proof'): ServedProof {
  const base = `${server.url}${prefix}`;
  for (const f of ['vocab.json', 'merges.txt']) {
    server.set(`${prefix}/tokenizer/${f}`, fs.readFileSync(path.join(ASSETS, 'clip/hf', f)), { contentType: f.endsWith('.json') ? 'application/json' : 'text/plain' });
  }
  const manifests: ServedProof['manifests'] = {};
  const files: ServedProof['files'] = {};
  for (const spec of specs) {
    const pm = createColourProofModel({ id: spec.id, ...spec.options });
    const raw = structuredClone(pm.manifest.raw) as unknown as Record<string, any>;
    Object.assign(raw.tokenizer, clipTokenizerEntries(`${base}/tokenizer`));
    files[spec.id] = {};
    for (const [role, bytes] of Object.entries(pm.models)) {
      if (!bytes) continue;
      server.set(`${prefix}/${spec.id}/${role}/model.onnx`, bytes);
      files[spec.id]![role] = bytes;
      raw.components[role].files = [{ path: `${role}/model.onnx`, url: `${base}/${spec.id}/${role}/model.onnx`, bytes: bytes.length, sha256: sha256(bytes) }];
      raw.components[role].model = `${role}/model.onnx`;
    }
    manifests[spec.id] = raw;
    server.set(`${prefix}/${spec.id}.json`, new TextEncoder().encode(JSON.stringify(raw)), { contentType: 'application/json' });
  }
  server.set(`${prefix}/index.json`, new TextEncoder().encode(JSON.stringify({ version: 1, models: specs.map((s) => `${s.id}.json`) })), { contentType: 'application/json' });
  return { indexUrl: `${base}/index.json`, manifests, files };
}
