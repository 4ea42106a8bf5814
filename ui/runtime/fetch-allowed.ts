/**
 * The one door to the network: every runtime fetch goes through `fetchAllowedAsync`, which refuses hosts outside the
 * allowlist (AppError NETWORK_NOT_ALLOWED) — before the request, and again for the final URL after redirects.
 */
import { AppError } from '../../protocol/errors';
import { isUrlAllowed } from './allowed-hosts';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface NetworkPolicy {
  /** Allowlist entries (manifest.json syntax). */
  readonly domains: readonly string[];
  /** Defaults to the global fetch. */
  readonly fetch?: FetchLike;
}

function hostOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}`;
  } catch {
    return JSON.stringify(url);
  }
}

export function assertUrlAllowed(url: string, policy: NetworkPolicy): void {
  if (!isUrlAllowed(url, policy.domains)) {
    throw new AppError('NETWORK_NOT_ALLOWED', `The plugin may not download from ${hostOf(url)} (${url}). Allowed: ${policy.domains.join(', ')}.`, {
      hint: 'Use a model hosted on Hugging Face, or ask for the host to be added to the plugin manifest.',
    });
  }
}

/** fetch() behind the allowlist. Network failures become MODEL_FETCH_FAILED unless the caller aborted. */
export async function fetchAllowedAsync(url: string, init: RequestInit, policy: NetworkPolicy): Promise<Response> {
  assertUrlAllowed(url, policy);
  const f = policy.fetch ?? ((u: string, i?: RequestInit) => fetch(u, i));
  let res: Response;
  try {
    res = await f(url, init);
  } catch (err) {
    if (init.signal?.aborted) throw new AppError('CANCELLED', 'Download cancelled.');
    const reason = err instanceof Error ? err.message : String(err);
    // A redirect to a host that cannot be reached fails the same way as the first host: ask the first host once more
    // without following, so the message blames the right one.
    const redirect = await probeRedirectAsync(f, url, init);
    if (redirect?.target && !isUrlAllowed(redirect.target, policy.domains)) {
      throw new AppError('NETWORK_NOT_ALLOWED', `${hostOf(url)} redirected to ${hostOf(redirect.target)}, which the plugin may not download from.`, {
        hint: 'Add the redirect host to manifest.json networkAccess and ui/runtime/allowed-hosts.ts.', cause: err,
      });
    }
    if (redirect) {
      throw new AppError('MODEL_FETCH_FAILED', `${hostOf(url)} redirected to ${redirect.target ? hostOf(redirect.target) : 'another host'}, which could not be reached: ${reason}`, {
        hint: 'The model host answered; the server it sends downloads to did not. Try again later.', cause: err,
      });
    }
    throw new AppError('MODEL_FETCH_FAILED', `Could not reach ${hostOf(url)}: ${reason}`, {
      hint: 'Check your internet connection and try again.', cause: err,
    });
  }
  if (res.url && res.url !== url && !isUrlAllowed(res.url, policy.domains)) {
    await res.body?.cancel().catch(() => undefined);
    throw new AppError('NETWORK_NOT_ALLOWED', `${hostOf(url)} redirected to ${hostOf(res.url)}, which the plugin may not download from.`, {
      hint: 'Add the redirect host to manifest.json networkAccess and ui/runtime/allowed-hosts.ts.',
    });
  }
  return res;
}

/**
 * After a failed fetch: does `url` itself answer with a redirect? Returns the redirect target when visible (Node, or a
 * same-origin Location), `{}` when the browser hides it (an opaque redirect), null when there is no redirect.
 */
async function probeRedirectAsync(f: FetchLike, url: string, init: RequestInit): Promise<{ target?: string } | null> {
  try {
    const r = await f(url, { ...init, redirect: 'manual' });
    const isRedirect = r.type === 'opaqueredirect' || (r.status >= 300 && r.status < 400);
    const location = isRedirect ? r.headers.get('location') : null;
    await r.body?.cancel().catch(() => undefined);
    if (!isRedirect) return null;
    if (!location) return {};
    try {
      return { target: new URL(location, url).href };
    } catch {
      return {};
    }
  } catch {
    return null;
  }
}
