/**
 * The manifest schema of downloadable upscalers (models/upscalers/*.json), kept apart from the diffusion manifests.
 * Every weight file is pinned (URL, sha256) and every entry names its evidence. An entry is `ready` only with an ONNX
 * file the runtime can run (pinned: URL at a fixed revision, bytes, sha256); `needs-conversion` entries record the
 * upstream weights until an exporter exists.
 */
import * as v from '../../../protocol/validate';

const sha256 = v.string({ pattern: /^[0-9a-f]{64}$/, patternName: '64 lowercase hex digits' });
const httpsUrl = v.string({ pattern: /^https:\/\/[^\s]+$/, patternName: 'an https URL', maxLength: 2000 });

const file = v.object({
  url: httpsUrl,
  bytes: v.optional(v.number({ integer: true, min: 1 })),
  sha256,
});

export const upscalerManifest = v.refine(v.object({
  id: v.string({ pattern: /^[a-z0-9][a-z0-9.-]{0,63}$/, patternName: 'lowercase id' }),
  name: v.string({ minLength: 1, maxLength: 200 }),
  kind: v.literal('upscaler'),
  scale: v.number({ integer: true, min: 2, max: 8 }),
  architecture: v.string({ minLength: 1, maxLength: 300 }),
  /** Pixel range of the model's input/output (1 for most PyTorch exports, 255 for ESRGAN-slim). */
  range: v.number({ min: 0.001, max: 65535 }),
  licence: v.object({ name: v.string({ minLength: 1, maxLength: 200 }), commercial_use: v.boolean(), url: httpsUrl }),
  status: v.oneOf(['ready', 'needs-conversion'] as const),
  status_note: v.optional(v.string({ maxLength: 2000 })),
  /** The upstream weights as published. */
  weights: v.object({ format: v.oneOf(['onnx', 'pth', 'safetensors'] as const), url: httpsUrl, bytes: v.optional(v.number({ integer: true, min: 1 })), sha256 }),
  /** The ONNX file the runtime downloads (required when ready). */
  onnx: v.optional(file),
  evidence: v.array(v.string({ minLength: 10, maxLength: 2000 }), { minLength: 1, maxLength: 20 }),
}, { strict: true }), (m) => {
  if (m.status === 'ready' && !m.onnx) return 'a ready upscaler needs an "onnx" file';
  if (m.status === 'ready' && m.onnx && m.onnx.bytes === undefined) return 'a ready upscaler\'s onnx file needs its byte count';
  if (m.status === 'needs-conversion' && !m.status_note) return 'say why the upscaler needs conversion (status_note)';
  return null;
});
export type UpscalerManifest = v.Infer<typeof upscalerManifest>;

/** Validates a parsed models/upscalers/*.json; throws a ValidationError naming the field. */
export const parseUpscalerManifest = (raw: unknown): UpscalerManifest => upscalerManifest.validate(raw);
