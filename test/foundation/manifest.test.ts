import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ROOT } from '../helpers/paths';

const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));

describe('manifest.json', () => {
  it('is a real Figma manifest for a new plugin', () => {
    expect(manifest.api).toBe('1.0.0');
    expect(manifest.editorType).toEqual(['figma']);
    expect(manifest.main).toBe('dist/code.js');
    expect(manifest.ui).toBe('dist/ui.html');
    expect(manifest.documentAccess).toBe('dynamic-page');
    expect(typeof manifest.id).toBe('string');
    expect(manifest.name.length).toBeGreaterThan(0);
  });

  it('lists only https hosts with a reasoning, plus ComfyUI/SwarmUI default local addresses, and localhost otherwise only for development', () => {
    const net = manifest.networkAccess;
    expect(net.reasoning.length).toBeGreaterThan(40);
    expect(net.reasoning).toMatch(/ComfyUI.*SwarmUI/);
    expect(net.allowedDomains.length).toBeGreaterThan(0);
    for (const d of net.allowedDomains) {
      // The remote engine's local defaults (http API + ws progress socket) on ComfyUI's 8188 and SwarmUI's 7801.
      if (/^(http|ws):\/\/(127\.0\.0\.1|localhost):(8188|7801)$/.test(d)) continue;
      // Otherwise https only; a leading "*." subdomain wildcard is the one pattern Figma allows.
      expect(d).toMatch(/^https:\/\/(\*\.)?[a-z0-9.-]+$/);
      expect(d).not.toMatch(/localhost/);
    }
    for (const d of net.devAllowedDomains) expect(d).toMatch(/^http:\/\/localhost:\d+$/);
  });

  it('lists exactly the hosts the runtime may fetch from (ui/runtime/allowed-hosts.ts)', async () => {
    const { ALLOWED_DOMAINS, DEV_ALLOWED_DOMAINS } = await import('../../ui/runtime/allowed-hosts');
    expect([...manifest.networkAccess.allowedDomains].sort()).toEqual([...ALLOWED_DOMAINS].sort());
    expect([...manifest.networkAccess.devAllowedDomains].sort()).toEqual([...DEV_ALLOWED_DOMAINS].sort());
  });

  it('declares the relaunch buttons the plugin sets on results', () => {
    const commands = manifest.relaunchButtons.map((b: { command: string }) => b.command);
    expect(commands).toEqual(['regenerate', 'variations']);
  });
});
