import { describe, expect, it } from 'vitest';
import { chooseProvider, type AdapterInfo } from '../../ui/runtime/provider-choice';

const gpu = (o: Partial<AdapterInfo> = {}): AdapterInfo => ({ available: true, shaderF16: true, isFallback: false, ...o });

describe('chooseProvider', () => {
  const cases: [string, AdapterInfo, 'float32' | 'float16', 'webgpu' | 'wasm', RegExp][] = [
    ['no adapter, fp32', { available: false, shaderF16: false, isFallback: false }, 'float32', 'wasm', /No WebGPU adapter/],
    ['no adapter, fp16', { available: false, shaderF16: false, isFallback: false }, 'float16', 'wasm', /No WebGPU adapter/],
    ['gpu with f16, fp16', gpu(), 'float16', 'webgpu', /GPU with WebGPU/],
    ['gpu with f16, fp32', gpu(), 'float32', 'webgpu', /GPU with WebGPU/],
    ['gpu without f16, fp32', gpu({ shaderF16: false }), 'float32', 'webgpu', /GPU with WebGPU/],
    ['gpu without f16, fp16 → never the silent-zeros path', gpu({ shaderF16: false }), 'float16', 'wasm', /shader-f16/],
    ['software adapter, fp32', gpu({ shaderF16: false, isFallback: true }), 'float32', 'wasm', /software fallback/],
    ['software adapter, fp16', gpu({ shaderF16: false, isFallback: true }), 'float16', 'wasm', /shader-f16/],
  ];
  for (const [name, adapter, dtype, provider, reason] of cases) {
    it(name, () => {
      const c = chooseProvider(adapter, dtype);
      expect(c.provider).toBe(provider);
      expect(c.reason).toMatch(reason);
    });
  }

  it('allowFallbackAdapter runs on a software adapter but never overrides the shader-f16 gate', () => {
    expect(chooseProvider(gpu({ shaderF16: false, isFallback: true }), 'float32', { allowFallbackAdapter: true }).provider).toBe('webgpu');
    expect(chooseProvider(gpu({ shaderF16: false, isFallback: true }), 'float16', { allowFallbackAdapter: true }).provider).toBe('wasm');
  });

  it('names why no adapter was found', () => {
    expect(chooseProvider({ available: false, shaderF16: false, isFallback: false, unavailableReason: 'navigator.gpu is missing in this window' }, 'float32').reason)
      .toMatch(/navigator\.gpu is missing/);
  });

  it('is pure: same input, same (frozen) output', () => {
    const a = chooseProvider(gpu(), 'float16');
    expect(chooseProvider(gpu(), 'float16')).toEqual(a);
    expect(Object.isFrozen(a)).toBe(true);
  });
});
