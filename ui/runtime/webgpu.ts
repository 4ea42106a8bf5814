/**
 * WebGPU probing and device setup for ORT. We create the GPUDevice ourselves (with shader-f16 when the adapter has
 * it, and the adapter's largest buffer limits) and hand it to ORT, so we can watch `device.lost`.
 */
import type { AdapterInfo } from './provider-choice';
import type { DeviceWatch } from './ort-session';

export interface WebGpuProbe {
  readonly info: AdapterInfo;
  readonly adapter?: GPUAdapter;
  /** "google swiftshader", "nvidia ampere", … */
  readonly adapterName?: string;
}

export async function probeWebGpuAsync(gpu: GPU | undefined = (globalThis.navigator as Navigator | undefined)?.gpu): Promise<WebGpuProbe> {
  if (!gpu) return { info: { available: false, shaderF16: false, isFallback: false, unavailableReason: 'navigator.gpu is missing in this window' } };
  let adapter: GPUAdapter | null = null;
  try {
    adapter = await gpu.requestAdapter();
  } catch (err) {
    return { info: { available: false, shaderF16: false, isFallback: false, unavailableReason: `requestAdapter failed: ${err instanceof Error ? err.message : String(err)}` } };
  }
  if (!adapter) return { info: { available: false, shaderF16: false, isFallback: false, unavailableReason: 'the browser returned no WebGPU adapter' } };
  const info = (adapter as unknown as { info?: { vendor?: string; architecture?: string; description?: string; isFallbackAdapter?: boolean } }).info;
  const isFallback = info?.isFallbackAdapter ?? (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
  const name = [info?.vendor, info?.architecture || info?.description].filter(Boolean).join(' ') || undefined;
  return {
    info: { available: true, shaderF16: adapter.features.has('shader-f16'), isFallback },
    adapter,
    ...(name ? { adapterName: name } : {}),
  };
}

/** Requests a device for ORT and marks `watch.lost` when the browser takes it away. */
export async function createWebGpuDeviceAsync(adapter: GPUAdapter, watch: DeviceWatch): Promise<GPUDevice> {
  const requiredFeatures: GPUFeatureName[] = adapter.features.has('shader-f16') ? ['shader-f16'] : [];
  const limits = adapter.limits;
  const device = await adapter.requestDevice({
    requiredFeatures,
    requiredLimits: {
      maxBufferSize: limits.maxBufferSize,
      maxStorageBufferBindingSize: limits.maxStorageBufferBindingSize,
      maxComputeWorkgroupStorageSize: limits.maxComputeWorkgroupStorageSize,
    },
  });
  watch.lost = false;
  delete watch.reason;
  watchDeviceLoss(device, watch);
  return device;
}

const watched = new WeakSet<object>();

/**
 * Marks `watch.lost` (with the browser's reason) when `device.lost` resolves. onnxruntime-web 1.30 creates its own
 * GPUDevice (it ignores a device set on `env.webgpu.device` and publishes its own there once a WebGPU session
 * exists), so the runtime attaches this to ORT's device after each WebGPU session is created. Idempotent.
 */
export function watchDeviceLoss(device: unknown, watch: DeviceWatch): void {
  // ORT's typings say env.webgpu.device is a Promise<GPUDevice>; 1.30 stores the device itself. Accept both.
  if (device instanceof Promise) {
    void device.then((d: unknown) => watchDeviceLoss(d, watch), () => undefined);
    return;
  }
  const lost = (device as { lost?: unknown } | null)?.lost;
  if (!device || typeof device !== 'object' || !(lost instanceof Promise) || watched.has(device)) return;
  watched.add(device);
  void (lost as Promise<{ message?: string; reason?: unknown }>).then((info) => {
    watch.lost = true;
    watch.reason = info?.message || `reason: ${String(info?.reason)}`;
  });
}
