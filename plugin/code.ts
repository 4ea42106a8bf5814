/// <reference path="../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
/**
 * Figma main-thread entry (built to dist/code.js by esbuild.config.mjs, which defines the constants below).
 * All logic lives in start-plugin.ts so tests can run it against the fake Figma API.
 */
import { startPlugin } from './start-plugin';

/** 'inline': the UI is the self-contained dist/ui.html; 'hosted': __html__ redirects the iframe to the hosted app. */
declare const __UI_MODE__: 'inline' | 'hosted';
/** The hosted app's origin, e.g. 'http://localhost:8788'; hosted mode drops messages from any other origin. */
declare const __HOSTED_ORIGIN__: string;
declare const __PLUGIN_VERSION__: string;

startPlugin(figma, { uiMode: __UI_MODE__, hostedOrigin: __HOSTED_ORIGIN__, version: __PLUGIN_VERSION__, html: __html__ });
