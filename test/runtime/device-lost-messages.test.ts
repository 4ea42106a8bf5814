/** #15.5: the texts real onnxruntime-web 1.30 raises after its GPUDevice is destroyed count as a lost device. */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../protocol/errors';
import { isDeviceLostError } from '../../ui/runtime/ort-session';

describe('device-lost recognition', () => {
  it('matches ORT 1.30 WebGPU EP errors, the watch, and nothing unrelated', () => {
    const real = [
      'failed to call OrtRun(). ERROR_CODE: 1, ERROR_MESSAGE: /onnxruntime/core/providers/webgpu/buffer_manager.cc:643 void onnxruntime::webgpu::(anonymous namespace)::EnforceBufferUnmapped(WebGpuContext &, WGPUBuffer) wgpuBufferGetMapState(buffer) == WGPUBufferMapState_Unmapped was false. Buffer was unmapped before mapping was resolved.',
      'null function',
      'RuntimeError: null function or function signature mismatch',
      'WebGPU device lost (2): Device was destroyed.',
      'GPUDevice was destroyed',
    ];
    for (const m of real) expect(isDeviceLostError(new Error(m), undefined), m).toBe(true);
    const unrelated = ['Got invalid dimensions for input: sample', 'protobuf parsing failed', 'out of memory', 'nullable function'];
    for (const m of unrelated) expect(isDeviceLostError(new Error(m), undefined), m).toBe(false);
    expect(isDeviceLostError(new Error('anything'), { lost: true })).toBe(true);
    expect(isDeviceLostError(new AppError('INTERNAL', 'device lost'), undefined)).toBe(false);
  });
});
