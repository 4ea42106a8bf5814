declare module 'virtual:worker-source' {
  /** The engine worker bundle (inline mode); empty in hosted mode, which loads worker.js by URL. */
  const source: string;
  export default source;
}
declare module 'virtual:ort-wasm' {
  /**
   * ORT wasm binaries (inline mode): each lives gzip-compressed and base64-encoded in the text of the inert
   * `<script type="application/gzip+base64" id={elementId}>` placed after the app script. Empty in hosted mode.
   */
  const files: { name: string; elementId: string }[];
  export default files;
}
declare module 'virtual:upscalers' {
  /**
   * The built-in upscalers (Boost), converted at build time: inline mode — base64 ONNX bytes in the text of the inert
   * `<script type="application/octet-stream+base64" id={elementId}>` after the app script; hosted mode — `url`
   * (relative to the app page).
   */
  const upscalers: {
    id: string; name: string; scale: number; range: number; receptiveRadius: number; licence: string;
    elementId?: string; url?: string;
  }[];
  export default upscalers;
}
