/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * test/fake-figma — a hand-written fake of the Figma plugin API for Node tests and the harness page.
 * See create-fake-figma.ts (figma + host) and demo-document.ts (the harness's sample document).
 */
export { createFakeFigma, hostOf } from './create-fake-figma';
export type {
  FakeFigmaOptions, FakeHost, FakeManifest, FakeNotification, FakeUiState, DroppedUiMessage, UndoStep, LaunchOptions,
} from './create-fake-figma';
export { createDemoDocument, makePhotoPng } from './demo-document';
export type { DemoIds } from './demo-document';
export type { Mutation } from './document-model';
export { CLIENT_STORAGE_QUOTA_BYTES } from './client-storage';
export { PLUGIN_DATA_ENTRY_LIMIT, MAX_EXPORT_SIDE } from './node-api';
export { FIGMA_MAX_IMAGE_SIDE, readImageHeader } from './image-store';
