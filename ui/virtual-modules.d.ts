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
