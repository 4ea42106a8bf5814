import { describe, expect, it, vi } from 'vitest';
import { createPluginBridge, type BridgeWindow } from '../../ui/bridge/plugin-bridge';
import { AppError } from '../../protocol/errors';

function fakeWindow() {
  const listeners = new Set<(e: MessageEvent) => void>();
  const sent: { message: unknown; targetOrigin: string }[] = [];
  const parent = { postMessage: (message: unknown, targetOrigin: string) => sent.push({ message, targetOrigin }) };
  const win: BridgeWindow = {
    parent,
    addEventListener: (_t, l) => listeners.add(l),
    removeEventListener: (_t, l) => listeners.delete(l),
  };
  const deliver = (data: unknown, origin: string, source: unknown = parent) => {
    for (const l of listeners) l({ data, origin, source } as MessageEvent);
  };
  return { win, sent, deliver, parent };
}

describe('plugin bridge', () => {
  it('inline mode: posts {pluginMessage} to * and resolves replies by requestId', async () => {
    const { win, sent, deliver } = fakeWindow();
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, vi.fn());
    const reply = bridge.requestAsync({ type: 'get-history', requestId: 'h1' });
    expect(sent).toEqual([{ message: { pluginMessage: { type: 'get-history', requestId: 'h1' } }, targetOrigin: '*' }]);
    deliver({ pluginMessage: { type: 'history', requestId: 'h1', entries: [] } }, 'null');
    await expect(reply).resolves.toEqual({ type: 'history', requestId: 'h1', entries: [] });
  });

  it('hosted mode: carries pluginId, targets the Figma origin, and drops messages from other origins', async () => {
    const { win, sent, deliver } = fakeWindow();
    const warn = vi.fn();
    const bridge = createPluginBridge(win, { uiMode: 'hosted', pluginId: '123', figmaOrigin: 'https://www.figma.com' }, warn);
    const seen = vi.fn();
    bridge.on(seen);
    bridge.send({ type: 'ui-ready', requestId: 'u1' });
    expect(sent[0]).toEqual({ message: { pluginMessage: { type: 'ui-ready', requestId: 'u1' }, pluginId: '123' }, targetOrigin: 'https://www.figma.com' });

    const msg = { pluginMessage: { type: 'theme', requestId: 't', theme: 'dark' } };
    deliver(msg, 'https://evil.example');
    expect(seen).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledWith('Dropped a message from an unexpected origin: https://evil.example');
    deliver(msg, 'https://www.figma.com');
    expect(seen).toHaveBeenCalledWith({ type: 'theme', requestId: 't', theme: 'dark' });
  });

  it('drops messages from windows other than the parent, and malformed ones', () => {
    const { win, deliver } = fakeWindow();
    const warn = vi.fn();
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, warn);
    const seen = vi.fn();
    bridge.on(seen);
    deliver({ pluginMessage: { type: 'ack', requestId: 'a' } }, 'null', {});
    deliver({ pluginMessage: { type: 'ack' } }, 'null');
    deliver({ notAnEnvelope: true }, 'null');
    expect(seen).not.toHaveBeenCalled();
    expect(warn).toHaveBeenCalledTimes(3);
  });

  it('rejects with the AppError of an error reply', async () => {
    const { win, deliver } = fakeWindow();
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, vi.fn());
    const p = bridge.requestAsync({ type: 'get-history', requestId: 'h2' });
    deliver({ pluginMessage: { type: 'error', requestId: 'h2', error: { code: 'INVALID_SELECTION', message: 'Nothing selected.' } } }, 'null');
    await expect(p).rejects.toBeInstanceOf(AppError);
    await expect(p).rejects.toMatchObject({ code: 'INVALID_SELECTION', message: 'Nothing selected.' });
  });

  it('#15.6: a request the plugin would refuse rejects at once naming the field, and is never posted', async () => {
    const { win, sent } = fakeWindow();
    const warn = vi.fn();
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, warn);
    const bad = { type: 'prepare-job', requestId: 'p1', mode: 'generate', size: { maxSide: 768, multiple: 64, targetArea: 8192 * 8192 } } as never;
    const t0 = Date.now();
    await expect(bridge.requestAsync(bad)).rejects.toMatchObject({
      code: 'INVALID_MESSAGE',
      message: 'The plugin refused "prepare-job": At size.targetArea: expected an integer in [4096, 16777216], got 67108864',
    });
    expect(Date.now() - t0).toBeLessThan(1000);
    bridge.send({ type: 'focus-node', requestId: 'f1', nodeId: '' });
    expect(sent).toEqual([]);
    expect(warn).toHaveBeenCalledWith(expect.stringMatching(/^Not sent: The plugin refused "focus-node": At nodeId/));
  });

  it('#15.6: a malformed reply to a pending request rejects it at once (not after the 120 s timeout)', async () => {
    const { win, deliver } = fakeWindow();
    const bridge = createPluginBridge(win, { uiMode: 'inline' }, vi.fn());
    const p = bridge.requestAsync({ type: 'get-history', requestId: 'h3' });
    deliver({ pluginMessage: { type: 'history', requestId: 'h3', entries: 'none' } }, 'null');
    await expect(p).rejects.toMatchObject({ code: 'INVALID_MESSAGE', message: 'The UI refused the plugin\'s reply "history": At entries: expected an array, got "none"' });
  });
});
