/**
 * The network allowlist, as data. It must equal manifest.json `networkAccess.allowedDomains` (and
 * `devAllowedDomains`): Figma turns those into the iframe's CSP, and this module lets the runtime refuse a URL with a
 * clear NETWORK_NOT_ALLOWED error before the browser does it silently ("(canceled)"). The lead's test compares both.
 *
 * Hugging Face `resolve/` URLs answer with a redirect to CDN hosts (`cdn-lfs*.hf.co`, `*.xethub.hf.co`,
 * `us.aws.cdn.hf.co`, …) that change over time, so both the explicit hosts HF documents and suffix wildcards are listed
 * (reference/figma-platform.md §2.4).
 *
 * Remote engines: ComfyUI's and SwarmUI's default local addresses (ComfyUI listens on 127.0.0.1:8188, SwarmUI on
 * 7801), over http and ws (the progress websocket), so a designer can run the plugin against a server on their own
 * computer with no rebuild. A team's own server host is added at build time (`esbuild.config.mjs --server-host`, no
 * wildcards), which also writes dist/manifest.json with it. Nothing is sent to these hosts unless the user connects
 * one in Models → Server.
 */

/** ComfyUI's and SwarmUI's default local addresses (http for the API, ws for ComfyUI's progress websocket). */
export const LOCAL_SERVER_DOMAINS: readonly string[] = Object.freeze([
  'http://127.0.0.1:8188',
  'http://localhost:8188',
  'ws://127.0.0.1:8188',
  'ws://localhost:8188',
  'http://127.0.0.1:7801',
  'http://localhost:7801',
  'ws://127.0.0.1:7801',
  'ws://localhost:7801',
]);

/** manifest.json `networkAccess.allowedDomains`. */
export const ALLOWED_DOMAINS: readonly string[] = Object.freeze([
  'https://huggingface.co',
  'https://*.huggingface.co',
  'https://*.hf.co',
  'https://cdn-lfs.huggingface.co',
  'https://cdn-lfs-us-1.huggingface.co',
  'https://cdn-lfs-eu-1.huggingface.co',
  'https://cdn-lfs.hf.co',
  'https://cdn-lfs-us-1.hf.co',
  'https://cdn-lfs-eu-1.hf.co',
  'https://cas-bridge.xethub.hf.co',
  'https://cas-server.xethub.hf.co',
  'https://transfer.xethub.hf.co',
  'https://us.aws.cdn.hf.co',
  'https://us.gcp.cdn.hf.co',
  'https://app.localdiffusion.dev',
  ...LOCAL_SERVER_DOMAINS,
]);

/** manifest.json `networkAccess.devAllowedDomains` (the harness and the hosted-UI dev server). */
export const DEV_ALLOWED_DOMAINS: readonly string[] = Object.freeze([
  'http://localhost:8787',
  'http://localhost:8788',
]);

interface Pattern {
  readonly scheme: string | null;
  readonly wildcard: boolean;
  readonly host: string;
  readonly port: string | null;
  /** null = any path; ends with '/' = prefix; otherwise exact path. */
  readonly path: string | null;
}

function parsePattern(entry: string): Pattern | null {
  const m = /^(?:(https?|wss?):\/\/)?(\*\.)?([a-z0-9.-]+)(?::(\d+))?(\/[^\s]*)?$/i.exec(entry.trim());
  if (!m) return null;
  return { scheme: m[1]?.toLowerCase() ?? null, wildcard: m[2] !== undefined, host: m[3]!.toLowerCase(), port: m[4] ?? null, path: m[5] ?? null };
}

const defaultPort = (scheme: string): string => (scheme === 'http' || scheme === 'ws' ? '80' : '443');

/**
 * Whether `url` matches one allowlist entry, with Figma's rules: optional scheme, `*.` = any subdomain (at any depth,
 * not the bare domain), optional port, optional path (trailing `/` = everything below it, otherwise that exact path).
 */
export function matchesDomain(url: URL, entry: string): boolean {
  const p = parsePattern(entry);
  if (!p) return false;
  const scheme = url.protocol.replace(':', '');
  if (p.scheme ? p.scheme !== scheme : scheme !== 'https' && scheme !== 'http') return false;
  const host = url.hostname.toLowerCase();
  if (p.wildcard ? !host.endsWith(`.${p.host}`) : host !== p.host) return false;
  const port = url.port || defaultPort(scheme);
  if ((p.port ?? defaultPort(p.scheme ?? scheme)) !== port) return false;
  if (p.path === null || p.path === '/') return true;
  return p.path.endsWith('/') ? url.pathname.startsWith(p.path) : url.pathname === p.path;
}

/** `data:` and `blob:` URLs never touch the network and are always allowed (Figma's CSP allows `data:` too). */
export function isUrlAllowed(url: string | URL, domains: readonly string[]): boolean {
  let u: URL;
  try {
    u = typeof url === 'string' ? new URL(url) : url;
  } catch {
    return false;
  }
  if (u.protocol === 'data:' || u.protocol === 'blob:') return true;
  return domains.some((d) => matchesDomain(u, d));
}
