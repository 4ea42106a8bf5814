#!/usr/bin/env python3
"""Parity fixtures: tiny random-weight models in the real diffusers / transformers classes, exported to ONNX with our
manifests' I/O names, and diffusers' own pipelines run on them with torch.Generator('cpu').manual_seed(seed).

Writes test/fixtures/parity/ (models/*.onnx, manifests.json, cases.json, tokenizer.json). `npm test` reads those
files and never runs Python. Run from the repository root:

    python3 tools/parity/make_fixtures.py

Everything is seeded, so a rerun on the same CPU and library versions rewrites identical numbers (see README.md).
"""
from __future__ import annotations

import base64
import json
import os
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

import diffusers
import transformers
from diffusers import (
    AutoencoderKL, ControlNetModel, DDIMScheduler, EulerAncestralDiscreteScheduler, EulerDiscreteScheduler, LCMScheduler,
    LatentConsistencyModelImg2ImgPipeline, LatentConsistencyModelPipeline, StableDiffusionControlNetImg2ImgPipeline,
    StableDiffusionControlNetPipeline,
    StableDiffusionImg2ImgPipeline, StableDiffusionInpaintPipeline, StableDiffusionPipeline, UNet2DConditionModel,
)
from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
OUT = ROOT / 'test' / 'fixtures' / 'parity'
MODELS = OUT / 'models'
CLIP = ROOT.parent / 'shared' / 'assets' / 'clip' / 'hf'
if not CLIP.exists():
    CLIP = Path('/work/shared/assets/clip/hf')

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HIDDEN = 4          # text width = UNet cross_attention_dim
LATENT = 4
VAE_SF = 0.18215
VAE_SCALE = 8
TIME_COND = 32      # LCM w-embedding width (time_cond_proj_dim)


def b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a).tobytes()).decode('ascii')


def f32(t: torch.Tensor) -> dict:
    a = t.detach().to(torch.float32).cpu().numpy()
    return {'dims': list(a.shape), 'data': b64(a.astype('<f4'))}


def reinit(module: torch.nn.Module, seed: int, scale: float = 1.0) -> None:
    """Deterministic random weights everywhere (zero-initialised convs included, so nothing is trivially zero)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            if p.dim() >= 2:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) * (scale / fan_in ** 0.5))
            elif name.endswith('weight'):  # norms
                p.copy_(1 + 0.1 * torch.randn(p.shape, generator=g))
            else:
                p.copy_(0.05 * torch.randn(p.shape, generator=g))


# ---------------------------------------------------------------- models

def text_encoder(seed: int, act: str, pad_id: int) -> CLIPTextModel:
    torch.manual_seed(seed)
    cfg = CLIPTextConfig(vocab_size=49408, hidden_size=HIDDEN, intermediate_size=16, num_hidden_layers=2,
                         num_attention_heads=2, max_position_embeddings=77, hidden_act=act, pad_token_id=pad_id,
                         bos_token_id=49406, eos_token_id=49407, projection_dim=HIDDEN)
    m = CLIPTextModel(cfg).eval()
    reinit(m, seed)
    return m


def unet(seed: int, in_channels: int = 4, time_cond: int | None = None) -> UNet2DConditionModel:
    torch.manual_seed(seed)
    m = UNet2DConditionModel(
        sample_size=8, in_channels=in_channels, out_channels=LATENT, layers_per_block=1, block_out_channels=(4, 8),
        down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'), up_block_types=('UpBlock2D', 'CrossAttnUpBlock2D'),
        cross_attention_dim=HIDDEN, attention_head_dim=2, norm_num_groups=2, time_cond_proj_dim=time_cond,
    ).eval()
    reinit(m, seed)
    return m


def controlnet(seed: int) -> ControlNetModel:
    torch.manual_seed(seed)
    m = ControlNetModel(
        in_channels=LATENT, layers_per_block=1, block_out_channels=(4, 8), down_block_types=('CrossAttnDownBlock2D', 'DownBlock2D'),
        cross_attention_dim=HIDDEN, attention_head_dim=2, norm_num_groups=2, conditioning_embedding_out_channels=(4, 4, 4, 4),
    ).eval()
    reinit(m, seed)
    return m


def vae(seed: int) -> AutoencoderKL:
    torch.manual_seed(seed)
    m = AutoencoderKL(
        in_channels=3, out_channels=3, down_block_types=('DownEncoderBlock2D',) * 4, up_block_types=('UpDecoderBlock2D',) * 4,
        block_out_channels=(8, 8, 8, 8), layers_per_block=1, latent_channels=LATENT, norm_num_groups=4, sample_size=32,
        scaling_factor=VAE_SF,
    ).eval()
    reinit(m, seed)
    with torch.no_grad():
        # A decoder whose image spans [-1, 1] (so a wrong latent shows as a large pixel error) and an encoder whose
        # posterior std is ~0.3 (so a wrong posterior draw shows too).
        z = torch.randn((1, LATENT, 8, 8), generator=torch.Generator().manual_seed(1)) / VAE_SF
        out = m.decode(z).sample
        m.decoder.conv_out.weight.mul_(0.6 / out.std())
        m.decoder.conv_out.bias.zero_()
        x = torch.rand((1, 3, 64, 64), generator=torch.Generator().manual_seed(2)) * 2 - 1
        mom = m.quant_conv(m.encoder(x))
        mean_std = mom[:, :LATENT].std()
        m.quant_conv.weight[:LATENT].mul_(1 / (mean_std * VAE_SF * 1.0))
        m.quant_conv.bias[:LATENT].mul_(1 / (mean_std * VAE_SF))
        m.quant_conv.weight[LATENT:].mul_(0.1)
        m.quant_conv.bias[LATENT:].fill_(2 * float(np.log(0.3 / VAE_SF)))
    return m


# ---------------------------------------------------------------- ONNX export

def io(name: str, dtype: str, dims: list) -> dict:
    return {'name': name, 'dtype': dtype, 'dims': dims}


def export(module: torch.nn.Module, args: tuple, path: Path, inputs: list[str], outputs: list[str], dynamic: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.onnx.export(module, args, str(path), input_names=inputs, output_names=outputs, dynamic_axes=dynamic,
                      opset_version=17, do_constant_folding=True, dynamo=False)


class TextWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, ids):
        return self.m(input_ids=ids.to(torch.int64)).last_hidden_state


class UnetWrap(torch.nn.Module):
    def __init__(self, m, cond: bool = False, residuals: int = 0):
        super().__init__()
        self.m, self.cond, self.residuals = m, cond, residuals

    def forward(self, sample, timestep, hidden, *rest):
        kw = {}
        rest = list(rest)
        if self.cond:
            kw['timestep_cond'] = rest.pop(0)
        if self.residuals:
            kw['down_block_additional_residuals'] = tuple(rest[: self.residuals])
            kw['mid_block_additional_residual'] = rest[self.residuals]
        return self.m(sample, timestep, encoder_hidden_states=hidden, **kw).sample


class ControlWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, sample, timestep, hidden, cond, scale):
        down, mid = self.m(sample, timestep, encoder_hidden_states=hidden, controlnet_cond=cond,
                           conditioning_scale=scale.to(torch.float32), return_dict=False)
        return (*down, mid)


class EncoderWrap(torch.nn.Module):
    """What the encoder ONNX returns: 'mean_logvar' = the posterior's parameters [1,2C,h,w] (optimum's
    `latent_parameters`); 'mean' = the posterior mean [1,C,h,w]."""

    def __init__(self, m, kind: str):
        super().__init__()
        self.m, self.kind = m, kind

    def forward(self, x):
        moments = self.m.quant_conv(self.m.encoder(x))
        return moments if self.kind == 'mean_logvar' else moments[:, :LATENT]


class DecoderWrap(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, z):
        return self.m.decode(z).sample


def file_entry(path: str) -> dict:
    return {'path': path, 'url': f'./{path}', 'bytes': (MODELS / path).stat().st_size}


def component(path: str, inputs: list, outputs: list) -> dict:
    return {'files': [file_entry(path)], 'model': path, 'inputs': inputs, 'outputs': outputs}


def lat(name):
    return io(name, 'float32', ['batch', 'channels', 'height', 'width'])


# ---------------------------------------------------------------- cases

SCHED_KEYS = {  # the keys our manifests carry (ui/core/manifest.ts), read back from the scheduler diffusers ran
    c: ['_class_name', 'num_train_timesteps', 'beta_start', 'beta_end', 'beta_schedule', 'prediction_type', 'timestep_spacing', 'steps_offset', *extra]
    for c, extra in (('EulerDiscreteScheduler', ['use_karras_sigmas']), ('EulerAncestralDiscreteScheduler', []),
                     ('DDIMScheduler', ['clip_sample', 'set_alpha_to_one']),
                     ('LCMScheduler', ['clip_sample', 'set_alpha_to_one', 'original_inference_steps', 'timestep_scaling']))
}


def scheduler_for(cfg: dict):
    cls = {'EulerDiscreteScheduler': EulerDiscreteScheduler, 'EulerAncestralDiscreteScheduler': EulerAncestralDiscreteScheduler,
           'DDIMScheduler': DDIMScheduler, 'LCMScheduler': LCMScheduler}[cfg['_class_name']]
    return cls(**{k: v for k, v in cfg.items() if k != '_class_name'})


SD15_EULER = {'_class_name': 'EulerDiscreteScheduler', 'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012,
              'beta_schedule': 'scaled_linear', 'prediction_type': 'epsilon', 'timestep_spacing': 'leading', 'steps_offset': 1}
TURBO_EULER = {**SD15_EULER, 'timestep_spacing': 'trailing', 'steps_offset': 0}
SD15_EULER_A = {**SD15_EULER, '_class_name': 'EulerAncestralDiscreteScheduler'}
SD15_DDIM = {'_class_name': 'DDIMScheduler', 'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012,
             'beta_schedule': 'scaled_linear', 'prediction_type': 'epsilon', 'timestep_spacing': 'leading', 'steps_offset': 1,
             'clip_sample': False, 'set_alpha_to_one': False}
LCM = {'_class_name': 'LCMScheduler', 'num_train_timesteps': 1000, 'beta_start': 0.00085, 'beta_end': 0.012,
       'beta_schedule': 'scaled_linear', 'prediction_type': 'epsilon', 'timestep_spacing': 'leading', 'steps_offset': 1,
       'original_inference_steps': 50, 'clip_sample': False, 'set_alpha_to_one': True}
V_EULER = {**SD15_EULER, 'prediction_type': 'v_prediction', 'timestep_spacing': 'trailing', 'steps_offset': 0}

LONG = ('a highly detailed isometric illustration of a cosy wooden cabin in a snowy pine forest at golden hour, warm light '
        'spilling from the windows, smoke curling from the chimney, a red sled leaning on the porch, footprints in fresh '
        'snow, distant mountains under a pastel sky, soft volumetric fog, tiny birds, (masterpiece:1.2), [best quality], '
        'trending on artstation, 8k, octane render, ultra sharp focus')


def rgba_pattern(w: int, h: int, seed: int) -> np.ndarray:
    """A smooth colourful picture (gradients + a disc), opaque RGBA uint8."""
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    r = 127.5 + 120 * np.sin(x / w * 3.1 + seed)
    g = 127.5 + 120 * np.cos(y / h * 2.3 + 0.5 * seed)
    b = np.where((x - w * 0.6) ** 2 + (y - h * 0.4) ** 2 < (min(w, h) * 0.25) ** 2, 230.0, 40.0 + 150 * x / w)
    a = np.full_like(r, 255.0)
    return np.clip(np.round(np.stack([r, g, b, a], -1)), 0, 255).astype(np.uint8)


def rgba_mask(w: int, h: int) -> np.ndarray:
    """White (repaint) rectangle + a diagonal 3-px stroke on black, opaque; hard edges (binary)."""
    m = np.zeros((h, w), np.uint8)
    m[h // 4: h // 4 + h // 3, w // 5: w // 5 + w // 2] = 255
    for i in range(min(w, h)):
        m[i, max(0, i - 1): i + 2] = 255
    return np.repeat(m[..., None], 4, -1).copy() | np.array([0, 0, 0, 255], np.uint8)


def rgba_control(w: int, h: int) -> np.ndarray:
    """White lines on black (a wireframe): a box outline and a cross."""
    m = np.zeros((h, w), np.uint8)
    m[h // 6, w // 6: 5 * w // 6] = 255
    m[5 * h // 6, w // 6: 5 * w // 6] = 255
    m[h // 6: 5 * h // 6, w // 6] = 255
    m[h // 6: 5 * h // 6, 5 * w // 6] = 255
    m[h // 2, :] = 255
    m[:, w // 2] = 255
    rgba = np.repeat(m[..., None], 4, -1)
    rgba[..., 3] = 255
    return rgba


def main() -> None:
    MODELS.mkdir(parents=True, exist_ok=True)
    for p in MODELS.glob('*.onnx'):
        p.unlink()

    vocab, merges = str(CLIP / 'vocab.json'), str(CLIP / 'merges.txt')
    tok_eos = CLIPTokenizer(vocab, merges, pad_token='<|endoftext|>', model_max_length=77)  # SD 1.x convention
    tok_bang = CLIPTokenizer(vocab, merges, pad_token='!', model_max_length=77)            # SD 2.x / SD-Turbo convention
    assert tok_eos.pad_token_id == 49407 and tok_bang.pad_token_id == 0

    te1 = text_encoder(11, 'quick_gelu', 49407)
    te2 = text_encoder(12, 'gelu', 1)
    un4 = unet(21)
    un9 = unet(22, in_channels=9)
    unl = unet(23, time_cond=TIME_COND)
    cn = controlnet(24)
    vk = vae(25)

    # ---- export
    ids = torch.zeros((1, 77), dtype=torch.int32)
    ids64 = torch.zeros((1, 77), dtype=torch.int64)
    export(TextWrap(te1), (ids,), MODELS / 'text_encoder_sd1.onnx', ['input_ids'], ['last_hidden_state'], {'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}})
    export(TextWrap(te2), (ids64,), MODELS / 'text_encoder_sd2.onnx', ['input_ids'], ['last_hidden_state'], {'input_ids': {0: 'batch'}, 'last_hidden_state': {0: 'batch'}})
    s4 = torch.randn(1, 4, 8, 8)
    t1 = torch.tensor([500.0])
    hid = torch.randn(1, 77, HIDDEN)
    dyn_lat = {0: 'batch', 2: 'height', 3: 'width'}
    unet_dyn = {'sample': dyn_lat, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'}, 'out_sample': dyn_lat}
    export(UnetWrap(un4), (s4, t1, hid), MODELS / 'unet.onnx', ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'], unet_dyn)
    export(UnetWrap(un9), (torch.randn(1, 9, 8, 8), t1, hid), MODELS / 'unet_inpaint.onnx', ['sample', 'timestep', 'encoder_hidden_states'], ['out_sample'], unet_dyn)
    export(UnetWrap(unl, cond=True), (s4, t1, hid, torch.randn(1, TIME_COND)), MODELS / 'unet_lcm.onnx',
           ['sample', 'timestep', 'encoder_hidden_states', 'timestep_cond'], ['out_sample'], {**unet_dyn, 'timestep_cond': {0: 'batch'}})
    with torch.no_grad():
        down, mid = cn(s4, t1, encoder_hidden_states=hid, controlnet_cond=torch.rand(1, 3, 64, 64), return_dict=False)
    res_names = [f'down_block_{i}_additional_residual' for i in range(len(down))] + ['mid_block_additional_residual']
    res = [*down, mid]
    export(UnetWrap(un4, residuals=len(down)), (s4, t1, hid, *res), MODELS / 'unet_controlled.onnx',
           ['sample', 'timestep', 'encoder_hidden_states', *res_names], ['out_sample'], {**unet_dyn, **{n: {0: 'batch', 2: f'h{i}', 3: f'w{i}'} for i, n in enumerate(res_names)}})
    export(ControlWrap(cn), (s4, t1, hid, torch.rand(1, 3, 64, 64), torch.tensor(1.0, dtype=torch.float64)), MODELS / 'controlnet.onnx',
           ['sample', 'timestep', 'encoder_hidden_states', 'controlnet_cond', 'conditioning_scale'], res_names,
           {'sample': dyn_lat, 'timestep': {0: 'batch'}, 'encoder_hidden_states': {0: 'batch'}, 'controlnet_cond': {0: 'batch', 2: 'height_px', 3: 'width_px'},
            **{n: {0: 'batch', 2: f'h{i}', 3: f'w{i}'} for i, n in enumerate(res_names)}})
    img_dyn = {0: 'batch', 2: 'image_height', 3: 'image_width'}
    export(EncoderWrap(vk, 'mean_logvar'), (torch.randn(1, 3, 64, 64),), MODELS / 'vae_encoder.onnx', ['sample'], ['latent_parameters'], {'sample': img_dyn, 'latent_parameters': dyn_lat})
    export(EncoderWrap(vk, 'mean'), (torch.randn(1, 3, 64, 64),), MODELS / 'vae_encoder_mean.onnx', ['sample'], ['latent_sample'], {'sample': img_dyn, 'latent_sample': dyn_lat})
    export(DecoderWrap(vk), (torch.randn(1, 4, 8, 8),), MODELS / 'vae_decoder.onnx', ['latent_sample'], ['sample'], {'latent_sample': dyn_lat, 'sample': img_dyn})

    # ---- manifests (our format)
    text1 = component('text_encoder_sd1.onnx', [io('input_ids', 'int32', ['batch', 77])], [io('last_hidden_state', 'float32', ['batch', 77, HIDDEN])])
    text2 = component('text_encoder_sd2.onnx', [io('input_ids', 'int64', ['batch', 77])], [io('last_hidden_state', 'float32', ['batch', 77, HIDDEN])])
    core_in = [lat('sample'), io('timestep', 'float32', ['batch']), io('encoder_hidden_states', 'float32', ['batch', 77, HIDDEN])]
    dec = component('vae_decoder.onnx', [lat('latent_sample')], [io('sample', 'float32', ['batch', 3, 'image_height', 'image_width'])])
    enc = component('vae_encoder.onnx', [io('sample', 'float32', ['batch', 3, 'image_height', 'image_width'])], [io('latent_parameters', 'float32', ['batch', 'channels', 'height', 'width'])])
    enc_mean = component('vae_encoder_mean.onnx', [io('sample', 'float32', ['batch', 3, 'image_height', 'image_width'])], [lat('latent_sample')])
    res_io = [io(n, 'float32', ['batch', 'c', 'h', 'w']) for n in res_names]

    def manifest(mid: str, text: dict, pad: int, unet_c: dict, sched: dict, caps: dict, extra: dict | None = None, **components) -> dict:
        return {
            'id': mid, 'name': f'Parity {mid}', 'description': 'Tiny random-weight model for the diffusers parity suite.',
            'source': 'tools/parity/make_fixtures.py',
            'licence': {'name': 'MIT', 'commercial_use': True, 'url': 'https://opensource.org/licenses/MIT'},
            'dtype': 'float32',
            'capabilities': {'txt2img': True, 'img2img': False, 'inpaint': 'none', 'controlnet': 'none', **caps},
            'tokenizer': {'vocab': {'path': 'tokenizer/vocab.json', 'url': './tokenizer/vocab.json', 'bytes': (CLIP / 'vocab.json').stat().st_size},
                          'merges': {'path': 'tokenizer/merges.txt', 'url': './tokenizer/merges.txt', 'bytes': (CLIP / 'merges.txt').stat().st_size},
                          'pad_token_id': pad, 'max_length': 77},
            'vae_scaling_factor': VAE_SF, 'latent_channels': LATENT, 'vae_scale': VAE_SCALE,
            'sizes': {'default_width': 64, 'default_height': 64, 'max_side': 128, 'multiple': 8},
            'defaults': {'steps': 4, 'guidance_scale': 1, 'strength': 0.5},
            'scheduler': sched,
            'components': {'text_encoder': text, 'unet': unet_c, 'vae_decoder': dec, **components},
            **(extra or {}),
        }

    unet4 = component('unet.onnx', core_in, [lat('out_sample')])
    unet9 = component('unet_inpaint.onnx', [lat('sample'), *core_in[1:]], [lat('out_sample')])
    unetl = component('unet_lcm.onnx', [*core_in, io('timestep_cond', 'float32', ['batch', TIME_COND])], [lat('out_sample')])
    unetc = component('unet_controlled.onnx', [*core_in, *res_io], [lat('out_sample')])
    cnc = component('controlnet.onnx', [lat('sample'), io('timestep', 'float32', ['batch']), io('encoder_hidden_states', 'float32', ['batch', 77, HIDDEN]),
                                         io('controlnet_cond', 'float32', ['batch', 3, 'height_px', 'width_px']), io('conditioning_scale', 'float64', [])], res_io)
    manifests = {
        'sd1': manifest('parity-sd1', text1, 49407, unet4, SD15_EULER, {'img2img': True, 'inpaint': 'blend'}, {'vae_encoder_output': 'mean_logvar'}, vae_encoder=enc),
        'sd1-mean': manifest('parity-sd1-mean', text1, 49407, unet4, SD15_EULER, {'img2img': True, 'inpaint': 'blend'}, {'vae_encoder_output': 'mean'}, vae_encoder=enc_mean),
        'turbo': manifest('parity-turbo', text2, 0, unet4, TURBO_EULER, {}),
        'inpaint9': manifest('parity-inpaint9', text1, 49407, unet9, SD15_EULER, {'img2img': True, 'inpaint': '9ch'}, {'vae_encoder_output': 'mean_logvar'}, vae_encoder=enc),
        'lcm': manifest('parity-lcm', text1, 49407, unetl, LCM, {'img2img': True}, {'vae_encoder_output': 'mean_logvar', 'guidance_embedding_dim': TIME_COND}, vae_encoder=enc),
        'controlnet': manifest('parity-controlnet', text1, 49407, unetc, SD15_EULER, {'txt2img': False, 'img2img': True, 'controlnet': 'scribble'},
                               {'vae_encoder_output': 'mean_logvar'}, controlnet=cnc, vae_encoder=enc),
    }

    # ---- diffusers pipelines
    common = dict(safety_checker=None, feature_extractor=None, requires_safety_checker=False)

    def pipe(cls, te, tok, un, sched, **kw):
        p = cls(vae=vk, text_encoder=te, tokenizer=tok, unet=un, scheduler=scheduler_for(sched), **common, **kw)
        p.set_progress_bar_config(disable=True)
        return p

    def run(p, kwargs, seed):
        """Runs the pipeline, recording the UNet feeds (first / last `sample`, prompt embeddings) and the decoder input."""
        rec = {'unet': [], 'decode': None}
        h = p.unet.register_forward_pre_hook(lambda m, a, kw: rec['unet'].append((a[0].clone(), kw.get('encoder_hidden_states', a[2] if len(a) > 2 else None))), with_kwargs=True)
        orig_decode = p.vae.decode

        def decode(z, *a, **k):
            rec['decode'] = z.clone()
            return orig_decode(z, *a, **k)
        p.vae.decode = decode
        try:
            with torch.no_grad():
                img = p(**kwargs, generator=torch.Generator('cpu').manual_seed(seed), output_type='np').images[0]
        finally:
            h.remove()
            p.vae.decode = orig_decode
        return img, rec

    cases = []

    def add(cid, kind, model, p, opts, seed, images=None, note=''):
        kwargs = {'prompt': opts['prompt'], 'num_inference_steps': opts['steps'], 'guidance_scale': opts['guidanceScale'],
                  'height': opts['height'], 'width': opts['width']}
        if opts.get('negativePrompt') is not None and kind != 'lcm':
            kwargs['negative_prompt'] = opts['negativePrompt']
        imgs = images or {}
        pil = {k: Image.fromarray(v[..., :3]) for k, v in imgs.items()}
        if 'image' in pil:
            kwargs['image'] = pil['image']
        if 'strength' in opts:
            kwargs['strength'] = opts['strength']
        if 'mask' in pil:
            kwargs['mask_image'] = pil['mask']
        if 'control' in pil:
            kwargs['controlnet_conditioning_scale'] = opts['controlScale']
            if 'image' in pil:
                kwargs['control_image'] = pil['control']
            else:
                kwargs['image'] = pil['control']
        if kind in ('img2img', 'lcm-img2img') or (kind == 'controlnet' and 'image' in pil):
            kwargs.pop('height'); kwargs.pop('width')
        img, rec = run(p, kwargs, seed)
        u8 = (img * 255).round().astype(np.uint8)
        first_sample, hidden = rec['unet'][0]
        last_sample, _ = rec['unet'][-1]
        cfg_on = first_sample.shape[0] == 2
        cases.append({
            'id': cid, 'kind': kind, 'model': model, 'note': note, 'pipeline': type(p).__name__,
            'scheduler': {'_class_name': type(p.scheduler).__name__,
                          **{k: v for k, v in p.scheduler.config.items() if k in SCHED_KEYS[type(p.scheduler).__name__]}},
            'options': {**opts, 'seed': str(seed)},
            'inputs': {k: {'width': v.shape[1], 'height': v.shape[0], 'rgba': b64(v)} for k, v in imgs.items()},
            'expected': {
                'image': {'width': u8.shape[1], 'height': u8.shape[0], 'rgb': b64(u8)},
                'unetRuns': len(rec['unet']),
                'cond': f32(hidden[1 if cfg_on else 0]),
                'uncond': f32(hidden[0]) if cfg_on else None,
                'firstSample': f32(first_sample[-1:]),
                'lastSample': f32(last_sample[-1:]),
                'decoderInput': f32(rec['decode']),
            },
        })
        print(f'  {cid}: {len(rec["unet"])} UNet runs, image mean {u8.mean():.1f} std {u8.std():.1f}', file=sys.stderr)

    neg = 'blurry, low quality'
    base = {'prompt': 'a red cat on a blue sofa', 'negativePrompt': neg}
    print('txt2img', file=sys.stderr)
    p = pipe(StableDiffusionPipeline, te2, tok_bang, un4, TURBO_EULER)
    add('turbo-euler-1step', 'txt2img', 'turbo', p, {**base, 'width': 64, 'height': 64, 'steps': 1, 'guidanceScale': 0}, 42)
    add('turbo-euler-4steps-trailing', 'txt2img', 'turbo', p, {**base, 'width': 64, 'height': 64, 'steps': 4, 'guidanceScale': 0}, 7)
    add('turbo-euler-cfg-nonsquare', 'txt2img', 'turbo', p, {**base, 'width': 64, 'height': 32, 'steps': 4, 'guidanceScale': 3.5}, 2**40 + 3)
    p = pipe(StableDiffusionPipeline, te1, tok_eos, un4, SD15_EULER)
    add('sd1-euler-20-cfg', 'txt2img', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 20, 'guidanceScale': 7.5}, 1234)
    add('sd1-euler-nocfg-48x64', 'txt2img', 'sd1', p, {**base, 'width': 48, 'height': 64, 'steps': 6, 'guidanceScale': 1}, 5)
    add('sd1-euler-long-prompt', 'txt2img', 'sd1', p, {'prompt': LONG, 'negativePrompt': neg, 'width': 32, 'height': 32, 'steps': 5, 'guidanceScale': 5}, 99)
    p = pipe(StableDiffusionPipeline, te1, tok_eos, un4, SD15_EULER_A)
    add('sd1-euler-a-20-cfg', 'txt2img', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 20, 'guidanceScale': 7.5}, 2024)
    add('sd1-euler-a-seed-2^64-1', 'txt2img', 'sd1', p, {**base, 'width': 32, 'height': 48, 'steps': 5, 'guidanceScale': 1}, 2**64 - 1)
    p = pipe(StableDiffusionPipeline, te1, tok_eos, un4, SD15_DDIM)
    add('sd1-ddim-20-cfg', 'txt2img', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 20, 'guidanceScale': 7.5}, 31337)
    add('sd1-ddim-nocfg-64x32', 'txt2img', 'sd1', p, {**base, 'width': 64, 'height': 32, 'steps': 8, 'guidanceScale': 0}, 8)
    p = pipe(StableDiffusionPipeline, te2, tok_bang, un4, V_EULER)
    add('turbo-euler-v-prediction', 'txt2img', 'turbo', p, {**base, 'width': 32, 'height': 32, 'steps': 4, 'guidanceScale': 0}, 11)

    print('lcm', file=sys.stderr)
    p = pipe(LatentConsistencyModelPipeline, te1, tok_eos, unl, LCM)
    add('lcm-4steps', 'lcm', 'lcm', p, {'prompt': base['prompt'], 'width': 64, 'height': 64, 'steps': 4, 'guidanceScale': 8}, 3)
    add('lcm-2steps-g1.5-nonsquare', 'lcm', 'lcm', p, {'prompt': base['prompt'], 'width': 64, 'height': 32, 'steps': 2, 'guidanceScale': 1.5}, 4)
    src = rgba_pattern(64, 64, 1)
    p = pipe(LatentConsistencyModelImg2ImgPipeline, te1, tok_eos, unl, LCM)
    add('lcm-img2img-0.5', 'lcm-img2img', 'lcm', p, {'prompt': base['prompt'], 'width': 64, 'height': 64, 'steps': 4, 'guidanceScale': 8, 'strength': 0.5}, 5, {'image': src})
    add('lcm-img2img-0.8', 'lcm-img2img', 'lcm', p, {'prompt': base['prompt'], 'width': 64, 'height': 64, 'steps': 3, 'guidanceScale': 4, 'strength': 0.8}, 6, {'image': src})

    print('img2img', file=sys.stderr)
    p = pipe(StableDiffusionImg2ImgPipeline, te1, tok_eos, un4, SD15_EULER)
    for s, st in ((0.3, 10), (0.6, 10), (0.9, 10)):
        add(f'sd1-img2img-euler-{s}', 'img2img', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': st, 'guidanceScale': 7.5, 'strength': s}, 77, {'image': src})
    src2 = rgba_pattern(48, 64, 2)
    p = pipe(StableDiffusionImg2ImgPipeline, te1, tok_eos, un4, SD15_EULER_A)
    add('sd1-img2img-euler-a-0.75-48x64', 'img2img', 'sd1', p, {**base, 'width': 48, 'height': 64, 'steps': 8, 'guidanceScale': 1, 'strength': 0.75}, 123, {'image': src2})
    p = pipe(StableDiffusionImg2ImgPipeline, te1, tok_eos, un4, SD15_DDIM)
    add('sd1-img2img-ddim-0.5', 'img2img', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 10, 'guidanceScale': 5, 'strength': 0.5}, 9, {'image': src})

    print('inpaint', file=sys.stderr)
    mask = rgba_mask(64, 64)
    p = pipe(StableDiffusionInpaintPipeline, te1, tok_eos, un4, SD15_EULER)
    add('sd1-inpaint-blend-1.0', 'inpaint', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 8, 'guidanceScale': 7.5, 'strength': 1.0}, 10, {'image': src, 'mask': mask})
    add('sd1-inpaint-blend-0.7', 'inpaint', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 8, 'guidanceScale': 7.5, 'strength': 0.7}, 12, {'image': src, 'mask': mask})
    p = pipe(StableDiffusionInpaintPipeline, te1, tok_eos, un4, SD15_EULER_A)
    add('sd1-inpaint-blend-euler-a-0.8', 'inpaint', 'sd1', p, {**base, 'width': 64, 'height': 64, 'steps': 6, 'guidanceScale': 1, 'strength': 0.8}, 13, {'image': src, 'mask': mask})
    p = pipe(StableDiffusionInpaintPipeline, te1, tok_eos, un9, SD15_EULER)
    add('inpaint9-1.0', 'inpaint', 'inpaint9', p, {**base, 'width': 64, 'height': 64, 'steps': 8, 'guidanceScale': 7.5, 'strength': 1.0}, 14, {'image': src, 'mask': mask})
    add('inpaint9-0.6', 'inpaint', 'inpaint9', p, {**base, 'width': 64, 'height': 64, 'steps': 8, 'guidanceScale': 7.5, 'strength': 0.6}, 15, {'image': src, 'mask': mask})
    p = pipe(StableDiffusionInpaintPipeline, te1, tok_eos, un9, SD15_EULER_A)
    add('inpaint9-euler-a-0.9', 'inpaint', 'inpaint9', p, {**base, 'width': 64, 'height': 64, 'steps': 6, 'guidanceScale': 3, 'strength': 0.9}, 16, {'image': src, 'mask': mask})

    print('controlnet', file=sys.stderr)
    ctl = rgba_control(64, 64)
    p = pipe(StableDiffusionControlNetPipeline, te1, tok_eos, un4, SD15_EULER, controlnet=cn)
    add('controlnet-euler-cfg', 'controlnet', 'controlnet', p, {**base, 'width': 64, 'height': 64, 'steps': 6, 'guidanceScale': 7.5, 'controlScale': 0.8}, 17, {'control': ctl})
    add('controlnet-nocfg-scale1.5', 'controlnet', 'controlnet', p, {**base, 'width': 64, 'height': 64, 'steps': 4, 'guidanceScale': 1, 'controlScale': 1.5}, 18, {'control': ctl})
    p = pipe(StableDiffusionControlNetImg2ImgPipeline, te1, tok_eos, un4, SD15_EULER_A, controlnet=cn)
    add('controlnet-img2img-euler-a-0.7', 'controlnet', 'controlnet', p, {**base, 'width': 64, 'height': 64, 'steps': 6, 'guidanceScale': 4, 'controlScale': 1.0, 'strength': 0.7}, 19, {'control': ctl, 'image': src})

    # torch's CPU randn on this machine's kernel (AVX2 on x86-64): draws in sequence from one generator per seed.
    draws = []
    for seed in (0, 7, 42, 2**32 + 5, 2**64 - 1):
        g = torch.Generator('cpu').manual_seed(seed)
        for shape in ((1, 4, 8, 8), (1000,), (5,), (3,), (4, 4, 8, 8), (1, 4, 32, 24)):
            draws.append({'seed': str(seed), 'shape': list(shape), 'values': b64(torch.randn(shape, generator=g).numpy().astype('<f4'))})
    (OUT / 'randn.json').write_text(json.dumps({'cpuCapability': torch.backends.cpu.get_cpu_capability(), 'torch': torch.__version__, 'draws': draws}) + '\n')

    from tokenizer_fixture import tokenizer_fixture
    (OUT / 'tokenizer.json').write_text(json.dumps(tokenizer_fixture(tok_eos, CLIP / 'vocab.json', CLIP / 'merges.txt'), ensure_ascii=True, indent=0) + '\n')

    versions = {'torch': torch.__version__, 'diffusers': diffusers.__version__, 'transformers': transformers.__version__,
                'numpy': np.__version__, 'python': sys.version.split()[0]}
    (OUT / 'manifests.json').write_text(json.dumps(manifests, indent=1) + '\n')
    (OUT / 'cases.json').write_text(json.dumps({'generatedBy': 'tools/parity/make_fixtures.py', 'versions': versions, 'cases': cases}, indent=1) + '\n')
    total = sum(f.stat().st_size for f in OUT.rglob('*') if f.is_file())
    print(f'wrote {len(cases)} cases, {total / 1e6:.2f} MB under {OUT.relative_to(ROOT)}', file=sys.stderr)


if __name__ == '__main__':
    main()
