/**
 * Test-only engine worker: the real engine worker (real onnxruntime-web on WebGPU) plus a hook that destroys the
 * GPUDevice ORT itself runs on (`ort.env.webgpu.device`, set by ORT when its WebGPU backend starts) in the middle of a
 * run. The page arms it over a BroadcastChannel; the next denoise progress message the worker posts destroys the
 * device, exactly between two UNet steps. Workers created after that (the client's restart) are not armed.
 */
import * as ort from 'onnxruntime-web/webgpu';
import '../../ui/runtime/worker/engine-worker';

const channel = new BroadcastChannel('device-lost-test');
let armed = false;
channel.onmessage = (e: MessageEvent) => {
  if (e.data === 'arm') {
    armed = true;
    channel.postMessage({ armed: true });
  }
};

const scope = self as unknown as { postMessage(m: unknown, t?: Transferable[]): void };
const post = scope.postMessage.bind(scope);
scope.postMessage = (m: unknown, t?: Transferable[]) => {
  post(m, t ?? []);
  const p = (m as { type?: string; progress?: { stage?: string; step?: number } } | null);
  if (armed && p?.type === 'progress' && p.progress?.stage === 'denoise' && (p.progress.step ?? 0) >= 1) {
    armed = false;
    const device = (ort.env as unknown as { webgpu?: { device?: GPUDevice } }).webgpu?.device;
    device?.destroy();
    channel.postMessage({ destroyed: device ? 'ort-device' : 'none' });
  }
};
