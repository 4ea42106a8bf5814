/**
 * The runtime's own SessionSource for the bench: ui/runtime's session manager (serial chain, "fast" / "low-memory"
 * policy) over ui/runtime's ORT session wrapper, with the same GPU-output rule as the engine (ui/runtime/engine.ts
 * `createSessionFor`: text-encoder and ControlNet outputs stay on the GPU in "fast" mode). Model bytes come from the
 * caller (disk in Node, loopback fetch in the page) instead of the engine's store.
 */
import type { ModelManifest } from '../../ui/core/manifest';
import type { ModelRole } from '../../ui/core/session';
import { createOrtSessionAsync, type OrtLike } from '../../ui/runtime/ort-session';
import { createSessionManager, type MemoryPolicy, type SessionManager } from '../../ui/runtime/session-manager';

export type { MemoryPolicy };

export const RUNTIME_SOURCE_KIND = 'ui/runtime session manager + ORT session wrapper';

export function createRuntimeSource(opts: {
  ort: unknown;
  manifest: ModelManifest;
  provider: 'wasm' | 'webgpu';
  policy: MemoryPolicy;
  loadBytesAsync: (role: ModelRole) => Promise<Uint8Array>;
}): SessionManager {
  const { manifest, provider } = opts;
  return createSessionManager({
    policy: opts.policy,
    createSessionAsync: async (role, ctx) => {
      const spec = manifest.components[role];
      if (!spec) throw new Error(`${manifest.name} has no ${role}`);
      const gpuOutputs = ctx.policy === 'fast' && (role === 'text_encoder' || role === 'controlnet') ? spec.outputs.map((o) => o.name) : [];
      return createOrtSessionAsync({
        ort: opts.ort as OrtLike, role, modelName: manifest.name, spec, model: await opts.loadBytesAsync(role), provider, gpuOutputs,
      });
    },
  });
}
