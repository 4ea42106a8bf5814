/**
 * The HTTP + websocket transport to one ComfyUI server: every request goes through the network allowlist, carries
 * the optional Bearer token, and every failure becomes an AppError in plain words (server down, CORS refused — name
 * the --enable-cors-header flag —, wrong token, busy, the server's own error text). One websocket per client
 * (`/ws?clientId=`), reconnected with the same client id when it drops.
 */
import { AppError } from '../../../protocol/errors';
import { assertUrlAllowed, type FetchLike } from '../fetch-allowed';
import {
  parseBinaryFrame, type ApiPrompt, type BinaryFrame, type ComfyEvent, type HistoryEntry, type ImageRef, type PromptAccepted,
  type PromptRejected, type QueueInfo,
} from './comfy-protocol';

/** The part of the WebSocket API the client uses (the browser's, or the `ws` package's in Node tests). */
export interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  addEventListener(type: 'open' | 'close' | 'error' | 'message', listener: (ev: { data?: unknown }) => void): void;
  close(): void;
}
export type SocketFactory = (url: string) => SocketLike;

export interface ComfyClientOptions {
  /** e.g. http://127.0.0.1:8188 (a trailing slash or path prefix is kept: a reverse proxy may serve ComfyUI under /comfy/). */
  readonly url: string;
  readonly token?: string;
  /** Allowlist entries (manifest.json syntax); the server's origin must be among them. */
  readonly domains: readonly string[];
  readonly fetch?: FetchLike;
  readonly socket?: SocketFactory;
  readonly clientId?: string;
  /**
   * Tells "server down" from "server up but refusing this origin" after a fetch threw (browsers hide CORS failures
   * behind a TypeError). Default: a `mode: 'no-cors'` request, which resolves (opaque) when the server answered.
   */
  readonly probeReachableAsync?: (url: string) => Promise<boolean>;
}

const CORS_HINT = 'Start ComfyUI with --enable-cors-header (it then answers Figma\'s plugin window, whose origin is "null"); behind a proxy, let it pass Access-Control-Allow-Origin.';

export function randomId(): string {
  const c = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(16)}-${Math.random().toString(16).slice(2)}-${Math.random().toString(16).slice(2)}`;
}

export function normalizeServerUrl(input: string): string {
  const text = input.trim();
  let u: URL;
  try {
    u = new URL(/^[a-z]+:\/\//i.test(text) ? text : `http://${text}`);
  } catch {
    throw new AppError('INVALID_INPUT', `"${text.slice(0, 80)}" is not a server address.`, { hint: 'Type it like http://127.0.0.1:8188' });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new AppError('INVALID_INPUT', `The server address must start with http:// or https://, not ${u.protocol}//.`, { hint: 'Type it like http://127.0.0.1:8188' });
  }
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

async function defaultProbeAsync(url: string): Promise<boolean> {
  try {
    await fetch(url, { mode: 'no-cors', cache: 'no-store' });
    return true;
  } catch {
    return false;
  }
}

export class ComfyClient {
  readonly base: string;
  readonly clientId: string;
  private readonly opts: ComfyClientOptions;

  constructor(opts: ComfyClientOptions) {
    this.opts = opts;
    this.base = normalizeServerUrl(opts.url);
    this.clientId = opts.clientId ?? randomId();
  }

  get origin(): string {
    return new URL(this.base).origin;
  }

  url(path: string): string {
    return `${this.base}${path}`;
  }

  /** One HTTP request: allowlist, token, plain-words failures. Returns the Response when `ok`. */
  async requestAsync(path: string, init: RequestInit = {}, what = 'the server', passStatuses: readonly number[] = []): Promise<Response> {
    const url = this.url(path);
    assertUrlAllowed(url, { domains: this.opts.domains });
    const headers = new Headers(init.headers);
    if (this.opts.token) headers.set('Authorization', `Bearer ${this.opts.token}`);
    const f = this.opts.fetch ?? ((u: string, i?: RequestInit) => fetch(u, i));
    let res: Response;
    try {
      res = await f(url, { ...init, headers, credentials: 'omit' });
    } catch (err) {
      if (init.signal?.aborted) throw new AppError('CANCELLED', 'Cancelled.');
      const reachable = await (this.opts.probeReachableAsync ?? defaultProbeAsync)(this.url('/system_stats'));
      if (reachable) {
        throw new AppError('SERVER_UNREACHABLE', `The server at ${this.origin} answered, but refused requests from the plugin (CORS).`, { hint: CORS_HINT, cause: err });
      }
      throw new AppError('SERVER_UNREACHABLE', `Could not reach ${what} at ${this.origin}${err instanceof Error && err.message ? ` (${err.message})` : ''}.`, {
        hint: 'Is ComfyUI running? Start it with: python main.py --listen 127.0.0.1 --port 8188 --enable-cors-header', cause: err,
      });
    }
    if (res.ok || passStatuses.includes(res.status)) return res;
    const body = await res.text().catch(() => '');
    if (res.status === 401 || (res.status === 403 && this.opts.token)) {
      throw new AppError('SERVER_UNREACHABLE', `The server at ${this.origin} refused the access token (HTTP ${res.status}).`, {
        hint: 'Check the token in Models → Server; it is sent as "Authorization: Bearer <token>".',
      });
    }
    if (res.status === 403) {
      throw new AppError('SERVER_UNREACHABLE', `The server at ${this.origin} refused the plugin's origin (HTTP 403).`, { hint: CORS_HINT });
    }
    if (res.status === 429 || res.status === 503) {
      throw new AppError('SERVER_ERROR', `The server at ${this.origin} is busy (HTTP ${res.status}).`, { hint: 'Wait a moment and try again, or pick "This device".' });
    }
    const text = describeServerError(body) ?? `HTTP ${res.status}${body ? `: ${body.slice(0, 300)}` : ''}`;
    throw new AppError('SERVER_ERROR', `The server refused the request: ${text}`, { hint: res.status >= 500 ? 'The server log has the details.' : 'Check the server\'s models and nodes in Models → Server.' });
  }

  async getJsonAsync<T>(path: string, signal?: AbortSignal): Promise<T> {
    const res = await this.requestAsync(path, signal ? { signal } : {});
    try {
      return (await res.json()) as T;
    } catch (err) {
      throw new AppError('SERVER_ERROR', `${this.origin}${path} did not answer with JSON — is this a ComfyUI server?`, { cause: err });
    }
  }

  async postJsonAsync(path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
    return this.requestAsync(path, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), ...(signal ? { signal } : {}) });
  }

  /** POST /upload/image (multipart: image, type=input, overwrite). Resolves with the name to use in LoadImage. */
  async uploadImageAsync(name: string, png: Uint8Array, signal?: AbortSignal): Promise<string> {
    const form = new FormData();
    form.append('image', new Blob([png as BlobPart], { type: 'image/png' }), name);
    form.append('type', 'input');
    form.append('overwrite', 'true');
    const res = await this.requestAsync('/upload/image', { method: 'POST', body: form, ...(signal ? { signal } : {}) });
    const json = (await res.json()) as { name: string; subfolder?: string };
    return json.subfolder ? `${json.subfolder}/${json.name}` : json.name;
  }

  /** POST /prompt with a client-chosen prompt id (servers that ignore it answer with their own). */
  async queuePromptAsync(prompt: ApiPrompt, promptId: string, signal?: AbortSignal): Promise<PromptAccepted> {
    const res = await this.requestAsync('/prompt', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ prompt, client_id: this.clientId, prompt_id: promptId }),
      ...(signal ? { signal } : {}),
    });
    return (await res.json()) as PromptAccepted;
  }

  queueAsync(): Promise<QueueInfo> {
    return this.getJsonAsync<QueueInfo>('/queue');
  }

  async historyAsync(promptId: string): Promise<HistoryEntry | null> {
    const h = await this.getJsonAsync<Record<string, HistoryEntry>>(`/history/${encodeURIComponent(promptId)}`);
    return h[promptId] ?? null;
  }

  async viewAsync(ref: ImageRef): Promise<Uint8Array> {
    const q = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
    const res = await this.requestAsync(`/view?${q.toString()}`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** Cancels a prompt: interrupts it when running (targeted by prompt id), deletes it from the queue when waiting. */
  async cancelAsync(promptId: string, running: boolean): Promise<void> {
    if (running) await this.postJsonAsync('/interrupt', { prompt_id: promptId }).catch(() => undefined);
    await this.postJsonAsync('/queue', { delete: [promptId] }).catch(() => undefined);
  }

  /** The websocket URL for this client (ws:// or wss://, same host and path prefix). */
  socketUrl(): string {
    const u = new URL(this.base);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}/ws?clientId=${encodeURIComponent(this.clientId)}`;
  }

  /** Opens the client's websocket (resolves once open; rejects when it cannot). */
  openSocketAsync(onEvent: (ev: ComfyEvent) => void, onBinary: (frame: BinaryFrame) => void, onClose: () => void, timeoutMs = 5000): Promise<SocketLike> {
    const factory = this.opts.socket ?? ((url: string) => new WebSocket(url) as unknown as SocketLike);
    const url = this.socketUrl();
    assertUrlAllowed(url.replace(/^ws/, 'http'), { domains: this.opts.domains });
    return new Promise((resolve, reject) => {
      let opened = false;
      let ws: SocketLike;
      try {
        ws = factory(url);
      } catch (err) {
        reject(err);
        return;
      }
      ws.binaryType = 'arraybuffer';
      const timer = setTimeout(() => { if (!opened) { ws.close(); reject(new Error('websocket did not open')); } }, timeoutMs);
      ws.addEventListener('open', () => { opened = true; clearTimeout(timer); resolve(ws); });
      ws.addEventListener('error', () => { if (!opened) { clearTimeout(timer); reject(new Error('websocket failed')); } });
      ws.addEventListener('close', () => { clearTimeout(timer); if (!opened) reject(new Error('websocket closed')); else onClose(); });
      ws.addEventListener('message', (ev) => {
        const data = ev.data;
        if (typeof data === 'string') {
          try {
            const msg = JSON.parse(data) as ComfyEvent;
            if (msg && typeof msg.type === 'string') onEvent(msg);
          } catch { /* not JSON: ignore */ }
        } else if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) {
          const bytes = data instanceof ArrayBuffer ? new Uint8Array(data) : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
          const frame = parseBinaryFrame(bytes);
          if (frame) onBinary(frame);
        }
      });
    });
  }
}

/** A ComfyUI error body in plain words: the validation error and each node's reasons, naming nodes and values. */
export function describeServerError(body: string): string | null {
  let json: PromptRejected;
  try {
    json = JSON.parse(body) as PromptRejected;
  } catch {
    return null;
  }
  if (!json || typeof json !== 'object' || !('error' in json)) return null;
  const err = json.error;
  const parts: string[] = [];
  if (typeof err === 'string') parts.push(err);
  else if (err) {
    const missingNode = /node (\S+) does not exist/.exec(err.message);
    if (missingNode) parts.push(`the server has no node "${missingNode[1]}" (a custom node pack is missing)`);
    else if (err.type !== 'prompt_outputs_failed_validation') parts.push(err.details ? `${err.message} (${err.details})` : err.message);
  }
  for (const [id, ne] of Object.entries(json.node_errors ?? {})) {
    for (const e of ne.errors ?? []) {
      const info = e.extra_info ?? {};
      if (e.type === 'value_not_in_list' && typeof info.input_name === 'string') {
        parts.push(`${ne.class_type} #${id}: the server has no ${info.input_name.replace(/_name$/, '').replace(/_/g, ' ')} "${String(info.received_value)}"`);
      } else {
        parts.push(`${ne.class_type} #${id}: ${e.message}${e.details ? ` (${e.details})` : ''}`);
      }
    }
  }
  if (parts.length === 0 && err && typeof err !== 'string') parts.push(err.details || err.message);
  return parts.join('; ');
}
