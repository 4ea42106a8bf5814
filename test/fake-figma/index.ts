/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
export const x: PluginAPI | null = null;
