declare module 'virtual:worker-source' {
  /** The engine worker bundle (inline mode); empty in hosted mode, which loads worker.js by URL. */
  const source: string;
  export default source;
}
declare module 'virtual:ort-wasm' {
  /** ORT wasm binaries, gzip-compressed and base64-encoded (inline mode); empty in hosted mode. */
  const files: { name: string; gz: string }[];
  export default files;
}
