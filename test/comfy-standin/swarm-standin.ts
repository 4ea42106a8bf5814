/**
 * A stand-in for the SwarmUI routes the plugin uses, following SwarmUI's source (src/WebAPI/T2IAPI.cs, API.cs,
 * BasicAPIFeatures.cs, Core/WebServer.cs; read, not copied): POST /API/GetNewSession, POST /API/ListModels (a stale
 * session → 401 {error, error_id: "invalid_session_id"}), the /API/GenerateText2ImageWS websocket (first message =
 * the parameters; answers status → gen_progress with data-URL previews → image {image: "View/…", batch_index,
 * request_id, metadata} → socket_intention close → status), GET /View/…, the AccessControlAllowOrigin and
 * RequiredAuthorization settings. Several "backends" take generations in turn and, with AddDebugData on, say so in
 * each image's metadata. Images are computed from the parameters (prompt colour, seed, init image by creativity,
 * mask), so a wrong parameter gives a wrong image.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { decodePng, encodePng, type RgbaImage } from '../../ui/core/image';

export interface SwarmStandinOptions {
  /** Network.AccessControlAllowOrigin ('' = no CORS header). */
  readonly accessControlAllowOrigin?: string;
  /** Network.RequiredAuthorization: the whole Authorization header must equal it. */
  readonly requiredAuthorization?: string;
  readonly models?: readonly { name: string; architecture: string }[];
  readonly controlnets?: readonly string[];
  readonly backends?: number;
  /** Network.AuthBypassIPs (SwarmUI's default bypasses loopback; tests of the token pass []). */
  readonly authBypassIps?: readonly string[];
  /** Server setting AddDebugData: backend info in each image's metadata. */
  readonly addDebugData?: boolean;
  readonly stepMs?: number;
  readonly steps?: number;
}

function fnv(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) { h ^= text.charCodeAt(i); h = Math.imul(h, 0x01000193) >>> 0; }
  return h >>> 0;
}

function fromDataUrl(url: unknown): RgbaImage | null {
  if (typeof url !== 'string') return null;
  const m = /^data:image\/png;base64,(.*)$/s.exec(url);
  return m ? decodePng(new Uint8Array(Buffer.from(m[1] as string, 'base64'))) : null;
}

export interface RunningSwarm {
  readonly url: string;
  readonly sessions: Set<string>;
  readonly received: Record<string, unknown>[];
  readonly requests: { method: string; path: string; origin: string | null; auth: string | null }[];
  closeAsync(): Promise<void>;
}

export async function startSwarmStandinAsync(opts: SwarmStandinOptions = {}): Promise<RunningSwarm> {
  const sessions = new Set<string>();
  const files = new Map<string, Uint8Array>();
  const received: Record<string, unknown>[] = [];
  const requests: RunningSwarm['requests'] = [];
  const models = opts.models ?? [{ name: 'OfficialStableDiffusion/sd_xl_base_1.0.safetensors', architecture: 'stable-diffusion-xl-v1-base' }];
  let nextBackend = 0;
  let counter = 0;
  const headers = (res: http.ServerResponse): void => {
    if (opts.accessControlAllowOrigin) res.setHeader('Access-Control-Allow-Origin', opts.accessControlAllowOrigin);
  };
  const json = (res: http.ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const bypass = opts.authBypassIps ?? ['127.0.0.1', '::1', '::ffff:127.0.0.1'];
  const authorized = (req: http.IncomingMessage): boolean => !opts.requiredAuthorization || req.headers.authorization === opts.requiredAuthorization
    || bypass.includes(req.socket.remoteAddress ?? '');

  const server = http.createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://x');
      requests.push({ method: req.method ?? 'GET', path: url.pathname, origin: req.headers.origin ?? null, auth: req.headers.authorization ?? null });
      headers(res);
      if (opts.accessControlAllowOrigin && req.method === 'OPTIONS') {
        res.setHeader('Access-Control-Allow-Methods', '*');
        res.setHeader('Access-Control-Allow-Headers', '*');
        res.setHeader('Access-Control-Max-Age', '3600');
        res.writeHead(204); res.end(); return;
      }
      if (!authorized(req)) { res.writeHead(401); res.end('Unauthorized'); return; }
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>) : {};
      if (req.method === 'POST' && url.pathname === '/API/GetNewSession') {
        const id = Buffer.from(`${Date.now()}-${counter++}`).toString('hex').toUpperCase().slice(0, 40);
        sessions.add(id);
        return json(res, 200, { session_id: id, user_id: 'local', output_append_user: true, version: '0.9.7.0.GIT-standin', server_id: '00000000-standin', permissions: ['basic_image_generation'] });
      }
      if (req.method === 'POST' && url.pathname.startsWith('/API/')) {
        if (!sessions.has(String(body.session_id))) return json(res, 401, { error: 'Invalid session ID. You may need to refresh the page.', error_id: 'invalid_session_id' });
        if (url.pathname === '/API/ListModels') {
          const list = body.subtype === 'ControlNet' ? (opts.controlnets ?? []).map((name) => ({ name, architecture: 'controlnet' })) : models;
          return json(res, 200, { folders: [], files: list.map((m) => ({ name: m.name, title: m.name, architecture: m.architecture, class: '', loaded: false, local: true })) });
        }
        if (url.pathname === '/API/GenerateText2Image') {
          received.push(body);
          if (!models.some((m) => m.name === body.model)) return json(res, 200, { error: `Invalid model name '${String(body.model)}'.` });
          return json(res, 200, { images: [render(body)] });
        }
        return json(res, 200, { error: `Unknown API route ${url.pathname}` });
      }
      if (req.method === 'GET' && url.pathname.startsWith('/View/')) {
        const f = files.get(decodeURIComponent(url.pathname.slice(1)));
        if (!f) { res.writeHead(404); res.end(); return; }
        res.writeHead(200, { 'Content-Type': 'image/png' });
        res.end(Buffer.from(f));
        return;
      }
      res.writeHead(404); res.end();
    })();
  });

  const wss = new WebSocketServer({ noServer: true });
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname !== '/API/GenerateText2ImageWS' || !authorized(req)) { socket.destroy(); return; }
    wss.handleUpgrade(req, socket, head, (ws) => {
      let cancelled = false;
      ws.on('close', () => { cancelled = true; });
      ws.once('message', (data) => {
        void (async () => {
          const p = JSON.parse(String(data)) as Record<string, unknown>;
          received.push(p);
          if (!sessions.has(String(p.session_id))) { ws.send(JSON.stringify({ error: 'Invalid session ID. You may need to refresh the page.', error_id: 'invalid_session_id' })); ws.close(); return; }
          const status = (waiting: number, live: number) => ({ status: { waiting_gens: waiting, loading_models: 0, waiting_backends: 0, live_gens: live }, backend_status: { status: 'running', class: '', message: '', any_loading: false }, supported_features: ['comfyui'] });
          ws.send(JSON.stringify(status(1, 0)));
          if (!models.some((m) => m.name === p.model)) { ws.send(JSON.stringify({ error: `Invalid model name '${String(p.model)}'.` })); ws.close(); return; }
          const name = render(p);
          const steps = opts.steps ?? 4;
          for (let s = 1; s <= steps && !cancelled; s++) {
            await new Promise((r) => setTimeout(r, opts.stepMs ?? 5));
            const preview = `data:image/png;base64,${Buffer.from(encodePng({ width: 8, height: 8, data: new Uint8ClampedArray(256).fill(s * 40) })).toString('base64')}`;
            ws.send(JSON.stringify({ gen_progress: { batch_index: '0', request_id: '1', overall_percent: s / steps, current_percent: s / steps, preview } }));
          }
          if (cancelled) return;
          ws.send(JSON.stringify({ image: name, batch_index: '0', request_id: '1', metadata: metadataOf.get(name) }));
          ws.send(JSON.stringify({ socket_intention: 'close' }));
          ws.send(JSON.stringify(status(0, 0)));
          ws.close();
        })();
      });
    });
  });
  const metadataOf = new Map<string, string>();
  /** Computes one image from the parameters, stores it under View/…, and returns its path. */
  function render(p: Record<string, unknown>): string {
    const w = Number(p.width); const h = Number(p.height);
    const hh = fnv(`${String(p.prompt)}|${String(p.seed)}|${String(p.model)}`);
    const colour = [hh & 255, (hh >> 8) & 255, (hh >> 16) & 255];
    const init = fromDataUrl(p.initimage);
    const mask = fromDataUrl(p.maskimage);
    const control = fromDataUrl(p.controlnetimageinput);
    const creativity = init ? Number(p.initimagecreativity ?? 0.6) : 1;
    const img: RgbaImage = { width: w, height: h, data: new Uint8ClampedArray(w * h * 4) };
    for (let i = 0; i < w * h; i++) {
      const m = mask ? (mask.data[i * 4] as number) / 255 : 1;
      const line = control ? ((control.data[i * 4] as number) / 255) * Number(p.controlnetstrength ?? 1) * 80 : 0;
      for (let c = 0; c < 3; c++) {
        const src = init ? (init.data[i * 4 + c] as number) : 0;
        const gen = Math.min(255, (colour[c] as number) + line);
        const v = src * (1 - creativity) + gen * creativity;
        img.data[i * 4 + c] = Math.round(src * (1 - m) + v * m);
      }
      img.data[i * 4 + 3] = 255;
    }
    const backend = nextBackend++ % (opts.backends ?? 1);
    const name = `View/local/raw/2026-11-30/${String(counter++).padStart(4, '0')}-${String(p.prompt).slice(0, 20).replace(/[^\w]+/g, '_')}.png`;
    files.set(name, encodePng(img));
    const extra: Record<string, unknown> = { date: '2026-11-30', generation_time: '0.10 seconds' };
    if (opts.addDebugData) extra.debug_backend = { backend_type: 'comfyui_selfstart', backend_id: backend, backend_usages: 1 };
    metadataOf.set(name, JSON.stringify({ sui_image_params: { prompt: p.prompt, model: p.model, seed: p.seed, steps: p.steps, cfgscale: p.cfgscale, width: w, height: h }, sui_extra_data: extra }));
    return name;
  }
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    sessions, received, requests,
    closeAsync: async () => {
      for (const c of wss.clients) c.terminate();
      wss.close();
      const closed = new Promise<void>((r) => server.close(() => r()));
      server.closeAllConnections();
      await closed;
    },
  };
}
