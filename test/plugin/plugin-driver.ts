/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Test driver for plugin/: the real startPlugin against the fake Figma (test/fake-figma) with the demo document,
 * driven like the UI would (messages in, messages out). Every message the plugin posts is validated against the
 * protocol, so a reply that breaks the protocol fails the test that caused it.
 */
import fs from 'node:fs';
import path from 'node:path';
import { encode as encodePngFast } from 'fast-png';
import { expect } from 'vitest';
import { parsePluginToUi, type PluginToUi, type Recipe, type UiToPlugin } from '../../protocol/messages';
import { startPlugin, type PluginHandle } from '../../plugin/start-plugin';
import { createDemoDocument, createFakeFigma, type DemoIds, type FakeHost, type FakeManifest } from '../fake-figma';
import { ROOT } from '../helpers/paths';

export const MANIFEST = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8')) as FakeManifest & { id: string };
export const HOSTED_ORIGIN = 'http://localhost:8788';
export const SD15 = { maxSide: 768, multiple: 64, targetArea: 512 * 512 } as const;

export interface Driver {
  readonly figma: PluginAPI;
  readonly host: FakeHost;
  readonly ids: DemoIds;
  readonly warnings: string[];
  plugin: PluginHandle;
  /** Delivers a UI message (with the right envelope for the mode) and waits until it is handled. */
  sendAsync(msg: unknown, opts?: { origin?: string }): Promise<void>;
  /** Sends and returns the reply with the same requestId (fails the test when there is none). */
  requestAsync<T extends PluginToUi['type']>(msg: UiToPlugin, expectType?: T): Promise<Extract<PluginToUi, { type: T }>>;
  /** All messages posted to the UI so far (validated). */
  posted(): PluginToUi[];
  /** Starts another run of the plugin on the same document (relaunch buttons, menu commands). */
  relaunch(command: string, nodeId?: string): void;
}

let counter = 0;
export const rid = (p = 't'): string => `${p}-${++counter}`;

export async function createDriverAsync(opts: { uiMode?: 'inline' | 'hosted'; command?: string; parameters?: Record<string, string> } = {}): Promise<Driver> {
  const uiMode = opts.uiMode ?? 'inline';
  const { figma, host } = createFakeFigma({ manifest: MANIFEST });
  const ids = await createDemoDocument(figma);
  const warnings: string[] = [];
  const start = (): PluginHandle =>
    startPlugin(figma, { uiMode, hostedOrigin: HOSTED_ORIGIN, version: '0.1.0-test', html: '<div id="root"></div>', warn: (t) => warnings.push(t) });
  if (opts.command || opts.parameters) host.launch({ command: opts.command ?? '', ...(opts.parameters ? { parameters: opts.parameters } : {}) });
  const driver: Driver = {
    figma, host, ids, warnings,
    plugin: start(),
    async sendAsync(msg, o = {}) {
      const origin = o.origin ?? (uiMode === 'hosted' ? HOSTED_ORIGIN : 'null');
      host.deliverUiMessage(msg, uiMode === 'hosted' ? { origin, pluginId: MANIFEST.id } : { origin });
      await driver.plugin.idleAsync();
      await host.settleAsync();
    },
    async requestAsync(msg, expectType) {
      await driver.sendAsync(msg);
      const reply = driver.posted().find((m) => m.requestId === msg.requestId);
      expect(reply, `no reply to ${msg.type}`).toBeDefined();
      if (expectType && reply!.type !== expectType) {
        throw new Error(`expected ${expectType}, got ${reply!.type}: ${JSON.stringify(reply!.type === 'error' ? reply!.error : '')}`);
      }
      return reply as never;
    },
    posted() {
      return host.uiMessages.map(({ message }) => {
        const parsed = parsePluginToUi(message);
        if (!parsed.ok) throw new Error(`the plugin posted a message that breaks the protocol: ${parsed.reason}`);
        return parsed.message;
      });
    },
    relaunch(command, nodeId) {
      driver.plugin.dispose();
      host.launch(nodeId ? { command, nodeId } : { command });
      driver.plugin = start();
    },
  };
  return driver;
}

/** A PNG whose left half is red and right half blue (RGBA8), so placement and crop can be checked. */
export function makeResultPng(width: number, height: number): Uint8Array {
  const data = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      data.set(x < width / 2 ? [220, 30, 30, 255] : [30, 30, 220, 255], o);
    }
  }
  return encodePngFast({ width, height, data, channels: 4, depth: 8 });
}

export function makeRecipe(over: Partial<Recipe> = {}): Recipe {
  return {
    version: 1, mode: 'edit', prompt: 'a cosy mountain cabin at dusk', negativePrompt: 'blurry', seed: 42, steps: 20,
    guidance: 7.5, strength: 0.6, width: 640, height: 384, modelId: 'sd15-test', sourceNodeIds: [],
    pluginVersion: '0.1.0-test', createdAt: '2026-01-01T00:00:00.000Z', ...over,
  };
}

/** The insert-result the UI sends for a job-inputs reply. */
export function insertFor(
  inputs: Extract<PluginToUi, { type: 'job-inputs' }>,
  over: Partial<Extract<UiToPlugin, { type: 'insert-result' }>> = {},
  recipe: Partial<Recipe> = {},
): Extract<UiToPlugin, { type: 'insert-result' }> {
  return {
    type: 'insert-result', requestId: rid('i'), jobId: 'job-1', png: makeResultPng(inputs.width, inputs.height),
    width: inputs.width, height: inputs.height, placement: inputs.placement,
    recipe: makeRecipe({ mode: inputs.mode, width: inputs.width, height: inputs.height, sourceNodeIds: inputs.sourceNodeIds, ...recipe }),
    target: 'new-layer', batchIndex: 0, batchCount: 1, ...over,
  };
}
