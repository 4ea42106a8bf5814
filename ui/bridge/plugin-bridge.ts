/**
 * The UI side of the plugin ↔ UI channel, with Figma's envelopes:
 * - inline mode (default null-origin iframe): send `{ pluginMessage }` to `parent` with target '*'; accept messages
 *   only from `parent`.
 * - hosted mode (the UI redirected to a real origin): send `{ pluginMessage, pluginId }` to the Figma origin only,
 *   and accept messages only from `parent` *and* from the Figma origin.
 * Every received message is validated (parsePluginToUi); malformed or unknown ones are dropped with a warning, and
 * a malformed reply to a pending request rejects that request at once. Every outgoing message is validated against
 * the protocol the plugin enforces: a request it would refuse rejects at once with the field named.
 */
import { AppError } from '../../protocol/errors';
import { parsePluginToUi, parseUiToPlugin, refusalError, refusalTarget, type PluginToUi, type UiToPlugin } from '../../protocol/messages';

export interface PluginBridge {
  send(msg: UiToPlugin): void;
  /** Sends and resolves with the reply carrying the same requestId; rejects with AppError on an `error` reply. */
  requestAsync(msg: UiToPlugin, timeoutMs?: number): Promise<PluginToUi>;
  /** Unsolicited messages (selection-changed, theme, …) and replies nobody waits for. Returns an unsubscribe. */
  on(handler: (msg: PluginToUi) => void): () => void;
  dispose(): void;
}

/** The slice of `window` the bridge needs (so tests can drive it without a DOM). */
export interface BridgeWindow {
  readonly parent: { postMessage(message: unknown, targetOrigin: string): void };
  addEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
  removeEventListener(type: 'message', listener: (event: MessageEvent) => void): void;
}

export type BridgeConfig =
  | { readonly uiMode: 'inline' }
  | { readonly uiMode: 'hosted'; readonly pluginId: string; readonly figmaOrigin: string };

export function createPluginBridge(win: BridgeWindow, config: BridgeConfig, warn: (text: string) => void = console.warn): PluginBridge {
  const handlers = new Set<(msg: PluginToUi) => void>();
  const pending = new Map<string, { resolve: (m: PluginToUi) => void; reject: (e: unknown) => void; timer: ReturnType<typeof setTimeout> }>();

  const listener = (event: MessageEvent): void => {
    if (event.source !== (win.parent as unknown)) {
      warn('Dropped a message that did not come from the plugin window.');
      return;
    }
    if (config.uiMode === 'hosted' && event.origin !== config.figmaOrigin) {
      warn(`Dropped a message from an unexpected origin: ${event.origin}`);
      return;
    }
    const data = event.data as { pluginMessage?: unknown } | null;
    if (!data || typeof data !== 'object' || !('pluginMessage' in data)) {
      warn('Dropped a message without a pluginMessage envelope.');
      return;
    }
    const parsed = parsePluginToUi(data.pluginMessage);
    if (!parsed.ok) {
      warn(`Dropped a malformed message: ${parsed.reason}`);
      // A malformed reply to a request we wait for ends that wait now, naming the field (not after the timeout).
      const target = refusalTarget(data.pluginMessage);
      const w = target ? pending.get(target.requestId) : undefined;
      if (target && w) {
        pending.delete(target.requestId);
        clearTimeout(w.timer);
        w.reject(AppError.fromData(refusalError(`the plugin's reply ${target.label}`, parsed.reason, 'UI')));
      }
      return;
    }
    const msg = parsed.message;
    const waiter = pending.get(msg.requestId);
    if (waiter) {
      pending.delete(msg.requestId);
      clearTimeout(waiter.timer);
      if (msg.type === 'error') waiter.reject(AppError.fromData(msg.error));
      else waiter.resolve(msg);
      return;
    }
    for (const h of handlers) h(msg);
  };
  win.addEventListener('message', listener);

  /** Checks an outgoing message against the protocol the plugin enforces; returns why it would be refused. */
  const refusal = (msg: UiToPlugin): AppError | null => {
    const parsed = parseUiToPlugin(msg);
    if (parsed.ok) return null;
    return AppError.fromData(refusalError(refusalTarget(msg)?.label ?? 'a message', parsed.reason, 'plugin'));
  };

  const post = (msg: UiToPlugin): void => {
    if (config.uiMode === 'hosted') {
      win.parent.postMessage({ pluginMessage: msg, pluginId: config.pluginId }, config.figmaOrigin);
    } else {
      win.parent.postMessage({ pluginMessage: msg }, '*');
    }
  };

  const send = (msg: UiToPlugin): void => {
    const refused = refusal(msg);
    if (refused) {
      warn(`Not sent: ${refused.message}`); // fire-and-forget messages have no one to answer; never post a bad one
      return;
    }
    post(msg);
  };

  return {
    send,
    requestAsync(msg, timeoutMs = 120_000) {
      return new Promise<PluginToUi>((resolve, reject) => {
        // A request the plugin would refuse fails here at once, naming the field (the plugin would answer the same).
        const refused = refusal(msg);
        if (refused) {
          reject(refused);
          return;
        }
        const timer = setTimeout(() => {
          pending.delete(msg.requestId);
          reject(new AppError('INTERNAL', `The plugin did not answer "${msg.type}" within ${Math.round(timeoutMs / 1000)} s.`, {
            hint: 'Close and reopen the plugin.',
          }));
        }, timeoutMs);
        pending.set(msg.requestId, { resolve, reject, timer });
        post(msg);
      });
    },
    on(handler) {
      handlers.add(handler);
      return () => handlers.delete(handler);
    },
    dispose() {
      win.removeEventListener('message', listener);
      for (const [, w] of pending) {
        clearTimeout(w.timer);
        w.reject(new AppError('CANCELLED', 'The plugin window closed.'));
      }
      pending.clear();
      handlers.clear();
    },
  };
}
