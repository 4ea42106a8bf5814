/**
 * Tracks every WebAssembly.Memory the process creates or instantiates (ORT's threaded builds import a JS-created
 * memory; others export theirs), so the bench can read ORT's wasm heap size. A wasm memory only grows, so its size at
 * the end of a run is its peak. Install before ORT creates its first session (ORT instantiates lazily).
 */
export interface WasmMemoryTracker {
  /** Current total bytes of all tracked memories (= their peak). */
  bytes(): number;
}

export function trackWasmMemory(): WasmMemoryTracker {
  const memories = new Set<WebAssembly.Memory>();
  const OrigMemory = WebAssembly.Memory;
  (WebAssembly as unknown as { Memory: unknown }).Memory = new Proxy(OrigMemory, {
    construct(target, args: [WebAssembly.MemoryDescriptor]) {
      const m = new target(...args);
      memories.add(m);
      return m;
    },
  });
  const capture = (instance: WebAssembly.Instance) => {
    for (const v of Object.values(instance.exports)) if (v instanceof OrigMemory) memories.add(v);
  };
  const origInstantiate = WebAssembly.instantiate.bind(WebAssembly) as (...a: unknown[]) => Promise<unknown>;
  (WebAssembly as unknown as { instantiate: unknown }).instantiate = async (...args: unknown[]) => {
    const r = await origInstantiate(...args);
    capture(r instanceof WebAssembly.Instance ? r : (r as WebAssembly.WebAssemblyInstantiatedSource).instance);
    return r;
  };
  if (typeof WebAssembly.instantiateStreaming === 'function') {
    const origStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
    WebAssembly.instantiateStreaming = async (...args: Parameters<typeof origStreaming>) => {
      const r = await origStreaming(...args);
      capture(r.instance);
      return r;
    };
  }
  return { bytes: () => [...memories].reduce((s, m) => s + m.buffer.byteLength, 0) };
}
