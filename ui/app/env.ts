/**
 * What the app needs from the outside world. The lead wires the real implementations in ui/main.tsx; tests pass
 * fakes (test/ui/fake-engine.ts, test/ui/fake-bridge.ts). The engine contract itself is ui/contracts/engine.ts.
 */
import type { PluginBridge } from '../bridge/plugin-bridge';
import type { EngineClient } from '../contracts/engine';

export type { PluginBridge };

export interface AppEnv {
  readonly bridge: PluginBridge;
  readonly engine: EngineClient;
  readonly uiMode: 'inline' | 'hosted';
}
