/**
 * The slots pipelines feed and read, per model role, with the names public ONNX exports give them. Pure data shared
 * by the manifest parser (which writes a manifest's known aliases as the slot names the pipelines use) and the
 * runtime's I/O binding (ui/runtime/io-binding.ts, which finds each slot among a model's real inputs and outputs).
 */
import type { ModelRole } from './session';

type Kind = 'input' | 'output';

export const norm = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');

/** Aliases seen in public exports (diffusers, Olive/Axodox, OnnxStack, diffusers.js, SDXS, TAESD, webnn). */
export const INPUT_ALIASES: Record<string, readonly string[]> = {
  input_ids: ['input_ids', 'input', 'ids', 'tokens', 'text_input_ids', 'text_input', 'token_ids'],
  sample: ['sample', 'latent_model_input', 'noisy_latents', 'noisy_sample', 'latents', 'latent', 'x', 'x_t', 'sample_in'],
  image_sample: ['sample', 'image', 'images', 'pixel_values', 'pixels', 'x', 'input'],
  latent_sample: ['latent_sample', 'latent', 'latents', 'z', 'x', 'input', 'latent_input'],
  timestep: ['timestep', 'timesteps', 't', 'time', 'ts', 'sigma'],
  encoder_hidden_states: ['encoder_hidden_states', 'text_embeddings', 'prompt_embeds', 'text_embeds', 'context', 'hidden_states', 'encoder_hidden_state', 'c_crossattn'],
  timestep_cond: ['timestep_cond', 'w_embedding', 'w_emb', 'guidance_embedding', 'guidance_emb', 'guidance'],
  controlnet_cond: ['controlnet_cond', 'control', 'control_image', 'controlnet_image', 'cond_image', 'hint', 'image', 'condition', 'conditioning'],
  conditioning_scale: ['conditioning_scale', 'controlnet_conditioning_scale', 'control_scale', 'controlnet_scale', 'scale'],
};
export const OUTPUT_ALIASES: Record<string, readonly string[]> = {
  last_hidden_state: ['last_hidden_state', 'text_embeddings', 'hidden_states', 'encoder_hidden_states', 'embeddings', 'last_hidden_states'],
  out_sample: ['out_sample', 'noise_pred', 'model_output', 'eps', 'pred', 'out', 'output', 'sample'],
  sample: ['sample', 'image', 'images', 'decoded', 'pixels', 'output', 'x', 'dec'],
  latent_sample: ['latent_sample', 'latent', 'latents', 'latent_dist', 'moments', 'z', 'output'],
};

/** The slots each role's inputs/outputs can have; the first ones of each list are required. */
export const ROLE_SLOTS: Record<ModelRole, { inputs: readonly string[]; requiredInputs: number; outputs: readonly string[] }> = {
  text_encoder: { inputs: ['input_ids'], requiredInputs: 1, outputs: ['last_hidden_state'] },
  unet: { inputs: ['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond', 'controlnet_cond', 'conditioning_scale'], requiredInputs: 3, outputs: ['out_sample'] },
  controlnet: { inputs: ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale', 'timestep_cond'], requiredInputs: 4, outputs: [] },
  vae_decoder: { inputs: ['latent_sample'], requiredInputs: 1, outputs: ['sample'] },
  preview_decoder: { inputs: ['latent_sample'], requiredInputs: 1, outputs: ['sample'] },
  vae_encoder: { inputs: ['image_sample'], requiredInputs: 1, outputs: ['latent_sample'] },
};

/** `down_block_3_additional_residual`, `down_block_additional_residual_3`, `down_block_res_samples.3` → one slot. */
function residualSlot(n: string): string | null {
  let m = /^down_block_?(\d+)_?(additional_)?residuals?$/.exec(n) ?? /^down_block_(additional_residual|res_samples?)_?(\d+)$/.exec(n);
  if (m) return `down_block_${/^\d+$/.test(m[1]!) ? m[1] : m[2]}_additional_residual`;
  m = /^mid_block_(additional_residual|res_samples?)$/.exec(n);
  return m ? 'mid_block_additional_residual' : null;
}

/** The semantic slot of a name for a role and side, or null when the name is unknown. */
export function slotOf(role: ModelRole, kind: Kind, name: string): string | null {
  const n = norm(name);
  if (role === 'unet' || role === 'controlnet') {
    const r = residualSlot(n);
    if (r) return r;
  }
  const slots = kind === 'input' ? ROLE_SLOTS[role].inputs : ROLE_SLOTS[role].outputs;
  const aliases = kind === 'input' ? INPUT_ALIASES : OUTPUT_ALIASES;
  for (const s of slots) if ((aliases[s] ?? [s]).includes(n)) return s === 'image_sample' ? 'sample' : s;
  // Fused-ControlNet plural names keep their own slot.
  if (kind === 'input' && (n === 'controlnet_conds' || n === 'conditioning_scales')) return n;
  return null;
}


/** The name pipelines use for a slot ('image_sample' is the VAE encoder's `sample`). */
export const slotName = (slot: string): string => (slot === 'image_sample' ? 'sample' : slot);
