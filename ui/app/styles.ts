/**
 * The app's CSS (CSS-in-TS so it is injected the same way in both UI modes and in the test page).
 * Colours are Figma's theme variables (`--figma-color-*`, present in the inline UI when showUI has themeColors)
 * with UI3 light/dark fallbacks chosen by `data-theme` (hosted mode gets no Figma variables).
 * Figma's rhythm: 11px Inter, 16px line height, 8px grid, 24px controls, 5px radius.
 */
export const APP_CSS = /* css */ `
.lda {
  --c-bg: var(--figma-color-bg, #ffffff);
  --c-bg-2: var(--figma-color-bg-secondary, #f5f5f5);
  --c-bg-3: var(--figma-color-bg-tertiary, #e6e6e6);
  --c-bg-hover: var(--figma-color-bg-hover, #f5f5f5);
  --c-brand: var(--figma-color-bg-brand, #0d99ff);
  --c-brand-hover: var(--figma-color-bg-brand-hover, #007be5);
  --c-selected: var(--figma-color-bg-selected, #e5f4ff);
  --c-text: var(--figma-color-text, rgba(0, 0, 0, 0.9));
  --c-text-2: var(--figma-color-text-secondary, rgba(0, 0, 0, 0.55));
  --c-text-3: var(--figma-color-text-tertiary, rgba(0, 0, 0, 0.35));
  --c-text-onbrand: var(--figma-color-text-onbrand, #ffffff);
  --c-text-brand: var(--figma-color-text-brand, #007be5);
  --c-border: var(--figma-color-border, #e6e6e6);
  --c-border-focus: var(--figma-color-border-selected, #0d99ff);
  --c-danger: var(--figma-color-text-danger, #dc3412);
  --c-danger-bg: var(--figma-color-bg-danger-tertiary, #ffe2e0);
  --c-warning: var(--figma-color-text-warning, #b86200);
  --c-warning-bg: var(--figma-color-bg-warning-tertiary, #fff1c2);
  --c-success: var(--figma-color-text-success, #008545);
  --c-disabled: var(--figma-color-text-disabled, rgba(0, 0, 0, 0.3));
  --c-icon: var(--figma-color-icon, rgba(0, 0, 0, 0.9));
  --font: Inter, "Inter var", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color-scheme: light;
}
.lda[data-theme="dark"] {
  --c-bg: var(--figma-color-bg, #2c2c2c);
  --c-bg-2: var(--figma-color-bg-secondary, #383838);
  --c-bg-3: var(--figma-color-bg-tertiary, #444444);
  --c-bg-hover: var(--figma-color-bg-hover, #383838);
  --c-brand: var(--figma-color-bg-brand, #0c8ce9);
  --c-brand-hover: var(--figma-color-bg-brand-hover, #0a6dc2);
  --c-selected: var(--figma-color-bg-selected, #4a5878);
  --c-text: var(--figma-color-text, #ffffff);
  --c-text-2: var(--figma-color-text-secondary, rgba(255, 255, 255, 0.7));
  --c-text-3: var(--figma-color-text-tertiary, rgba(255, 255, 255, 0.45));
  --c-text-onbrand: var(--figma-color-text-onbrand, #ffffff);
  --c-text-brand: var(--figma-color-text-brand, #7cc4f8);
  --c-border: var(--figma-color-border, #444444);
  --c-border-focus: var(--figma-color-border-selected, #0c8ce9);
  --c-danger: var(--figma-color-text-danger, #fca397);
  --c-danger-bg: var(--figma-color-bg-danger-tertiary, #5c2a23);
  --c-warning: var(--figma-color-text-warning, #f7d15f);
  --c-warning-bg: var(--figma-color-bg-warning-tertiary, #54461b);
  --c-success: var(--figma-color-text-success, #79d297);
  --c-disabled: var(--figma-color-text-disabled, rgba(255, 255, 255, 0.35));
  --c-icon: var(--figma-color-icon, #ffffff);
  color-scheme: dark;
}
html, body { margin: 0; padding: 0; height: 100%; }
body { background: var(--figma-color-bg, transparent); }
.lda, .lda * { box-sizing: border-box; }
.lda {
  display: flex; flex-direction: column; height: 100vh; min-width: 240px;
  background: var(--c-bg); color: var(--c-text);
  font: 400 11px/16px var(--font); letter-spacing: 0.005em;
  -webkit-font-smoothing: antialiased;
}
.lda :focus-visible { outline: 2px solid var(--c-border-focus); outline-offset: -1px; border-radius: 5px; }
.lda .sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }

/* top navigation */
.lda .nav { display: flex; align-items: center; gap: 4px; padding: 8px 8px 0; border-bottom: 1px solid var(--c-border); flex: none; }
.lda .nav-tab {
  appearance: none; border: 0; background: none; color: var(--c-text-2); font: 500 11px/16px var(--font);
  padding: 4px 8px 8px; cursor: pointer; border-bottom: 2px solid transparent; margin-bottom: -1px; border-radius: 0;
}
.lda .nav-tab:hover { color: var(--c-text); }
.lda .nav-tab[aria-selected="true"] { color: var(--c-text); border-bottom-color: var(--c-text); }
.lda .nav-status { margin-left: auto; display: flex; align-items: center; gap: 4px; color: var(--c-text-2); padding-bottom: 6px; white-space: nowrap; }
.lda .dot { width: 6px; height: 6px; border-radius: 50%; background: var(--c-text-3); flex: none; }
.lda .dot.ok { background: var(--c-success); }
.lda .dot.warn { background: var(--c-warning); }

.lda .scroll { flex: 1 1 auto; overflow-y: auto; overflow-x: hidden; padding: 8px 12px 12px; }
.lda .stack { display: flex; flex-direction: column; gap: 8px; }
.lda .row { display: flex; align-items: center; gap: 8px; min-width: 0; }
.lda .row > .grow { flex: 1 1 auto; min-width: 0; }
.lda .grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 8px; }
.lda .muted { color: var(--c-text-2); }
.lda .small { font-size: 10px; line-height: 14px; }
.lda .warn-text { color: var(--c-warning); }
.lda .danger-text { color: var(--c-danger); }
.lda .ok-text { color: var(--c-success); }
.lda .section-title { font-weight: 600; margin: 8px 0 0; font-size: 11px; }
.lda hr { border: 0; border-top: 1px solid var(--c-border); margin: 4px -12px; }

/* mode tabs: segmented control */
.lda .segmented { display: flex; background: var(--c-bg-2); border-radius: 5px; padding: 2px; gap: 2px; }
.lda .segmented button {
  flex: 1 1 0; min-width: 0; appearance: none; border: 0; background: none; color: var(--c-text-2);
  font: 500 11px/16px var(--font); padding: 3px 4px; border-radius: 4px; cursor: pointer;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
.lda .segmented button:hover { color: var(--c-text); }
.lda .segmented button[aria-selected="true"], .lda .segmented button[aria-pressed="true"] {
  background: var(--c-bg); color: var(--c-text); box-shadow: 0 0 0 1px var(--c-border);
}
.lda .segmented.compact { flex: none; }
.lda .segmented.compact button { flex: none; padding: 3px 6px; overflow: visible; }
.lda .segmented button[aria-disabled="true"] { color: var(--c-disabled); cursor: not-allowed; }

.lda .hint { display: flex; gap: 6px; align-items: flex-start; color: var(--c-text-2); }
.lda .hint svg { flex: none; margin-top: 2px; }
.lda .callout { border-radius: 5px; padding: 6px 8px; display: flex; gap: 8px; align-items: flex-start; }
.lda .callout.warning { background: var(--c-warning-bg); color: var(--c-text); }
.lda .callout.warning .callout-icon { color: var(--c-warning); }
.lda .callout.error { background: var(--c-danger-bg); color: var(--c-text); }
.lda .callout.error .callout-title { color: var(--c-danger); font-weight: 600; }
.lda .callout.info { background: var(--c-bg-2); }
.lda .callout .grow { flex: 1 1 auto; min-width: 0; }
.lda .callout p { margin: 0; }

/* fields */
.lda .field { display: flex; flex-direction: column; gap: 4px; min-width: 0; }
.lda .field-head { display: flex; align-items: baseline; justify-content: space-between; gap: 8px; }
.lda label, .lda .label { color: var(--c-text-2); }
.lda input[type="text"], .lda input[type="number"], .lda select, .lda textarea {
  font: 400 11px/16px var(--font); color: var(--c-text); background: var(--c-bg-2);
  border: 1px solid transparent; border-radius: 5px; padding: 3px 7px; min-width: 0; width: 100%;
}
.lda input[type="text"], .lda input[type="number"], .lda select { height: 24px; }
.lda select { padding-right: 20px; appearance: none; cursor: pointer;
  background-image: linear-gradient(45deg, transparent 50%, var(--c-text-2) 50%), linear-gradient(135deg, var(--c-text-2) 50%, transparent 50%);
  background-position: calc(100% - 11px) 10px, calc(100% - 7px) 10px; background-size: 4px 4px; background-repeat: no-repeat; }
.lda textarea { resize: vertical; min-height: 48px; padding: 4px 7px; }
.lda input:hover, .lda select:hover, .lda textarea:hover { border-color: var(--c-border); }
.lda input:focus, .lda select:focus, .lda textarea:focus { outline: none; border-color: var(--c-border-focus); background: var(--c-bg); }
.lda input[type="number"] { -moz-appearance: textfield; font-variant-numeric: tabular-nums; }
.lda input[type="number"]::-webkit-inner-spin-button, .lda input[type="number"]::-webkit-outer-spin-button { -webkit-appearance: none; margin: 0; }
.lda input[type="range"] { width: 100%; accent-color: var(--c-brand); margin: 0; height: 16px; }
.lda .slider { display: grid; grid-template-columns: 1fr 52px; gap: 8px; align-items: center; }
.lda .counter { font-variant-numeric: tabular-nums; color: var(--c-text-3); white-space: nowrap; }
.lda .counter.over { color: var(--c-warning); font-weight: 500; }

/* buttons */
.lda .btn {
  appearance: none; display: inline-flex; align-items: center; justify-content: center; gap: 4px;
  height: 24px; padding: 0 8px; border-radius: 5px; font: 500 11px/16px var(--font); cursor: pointer;
  border: 1px solid var(--c-border); background: var(--c-bg); color: var(--c-text); white-space: nowrap;
}
.lda .btn:hover { background: var(--c-bg-hover); }
.lda .btn.primary { background: var(--c-brand); color: var(--c-text-onbrand); border-color: transparent; }
.lda .btn.primary:hover { background: var(--c-brand-hover); }
.lda .btn.danger { color: var(--c-danger); }
.lda .btn.ghost { border-color: transparent; background: none; }
.lda .btn.ghost:hover { background: var(--c-bg-hover); }
.lda .btn.icon { width: 24px; padding: 0; flex: none; }
.lda .btn:disabled, .lda .btn[aria-disabled="true"] { opacity: 0.45; cursor: not-allowed; }
.lda .btn.big { height: 32px; font-size: 11px; padding: 0 12px; }
.lda kbd { font: 500 10px/14px var(--font); opacity: 0.75; }
.lda .link { appearance: none; border: 0; background: none; padding: 0; color: var(--c-text-brand); font: inherit; cursor: pointer; white-space: nowrap; }
.lda .link:hover { text-decoration: underline; }

.lda details > summary { cursor: pointer; color: var(--c-text-2); list-style: none; display: flex; align-items: center; gap: 4px; }
.lda details > summary::-webkit-details-marker { display: none; }
.lda details > summary::before { content: ""; border: 4px solid transparent; border-left-color: currentColor; margin-right: -2px; transition: transform 0.1s; }
.lda details[open] > summary::before { transform: rotate(90deg) translateX(2px); }
.lda details[open] > summary { margin-bottom: 8px; }

/* footer with run state */
.lda .footer { flex: none; border-top: 1px solid var(--c-border); padding: 8px 12px; display: flex; flex-direction: column; gap: 8px; background: var(--c-bg); }
.lda .footer .btn.big { width: 100%; }
.lda .progress { height: 4px; background: var(--c-bg-3); border-radius: 2px; overflow: hidden; }
.lda .progress > div { height: 100%; background: var(--c-brand); transition: width 0.15s linear; }
.lda .run-line { display: flex; justify-content: space-between; gap: 8px; color: var(--c-text-2); font-variant-numeric: tabular-nums; }
.lda .preview-wrap { display: flex; gap: 8px; align-items: flex-start; }
.lda .preview { width: 96px; height: 96px; border-radius: 4px; background: var(--c-bg-2); object-fit: contain; image-rendering: auto; flex: none; }
.lda .notice { color: var(--c-text-2); }

/* history */
.lda .history { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 8px; list-style: none; margin: 0; padding: 0; }
.lda .h-card { border: 1px solid var(--c-border); border-radius: 6px; overflow: hidden; display: flex; gap: 8px; padding: 8px; background: var(--c-bg); min-width: 0; }
.lda .h-thumb { width: 72px; height: 72px; flex: none; border-radius: 4px; background: var(--c-bg-2); display: flex; align-items: center; justify-content: center; overflow: hidden; }
.lda .h-thumb img { max-width: 100%; max-height: 100%; object-fit: contain; display: block; }
.lda .h-body { flex: 1 1 auto; display: flex; flex-direction: column; gap: 2px; min-width: 0; }
.lda .h-prompt { overflow: hidden; display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.lda .h-actions { display: flex; gap: 4px; flex-wrap: wrap; margin-top: 4px; }
.lda .empty { color: var(--c-text-2); text-align: center; padding: 24px 8px; }

/* models */
.lda .card { border: 1px solid var(--c-border); border-radius: 6px; padding: 8px; display: flex; flex-direction: column; gap: 6px; }
.lda .card-head { display: flex; align-items: flex-start; gap: 8px; }
.lda .card-title { font-weight: 600; }
.lda .badge { display: inline-block; border-radius: 4px; padding: 0 4px; font: 500 10px/16px var(--font); background: var(--c-bg-2); color: var(--c-text-2); white-space: nowrap; max-width: 100%; overflow: hidden; text-overflow: ellipsis; vertical-align: top; }
.lda .badge.warn { background: var(--c-warning-bg); color: var(--c-warning); }
.lda .badge.ok { color: var(--c-success); }
.lda .badge.err { background: var(--c-danger-bg); color: var(--c-danger); }
.lda .kv { display: grid; grid-template-columns: auto 1fr; gap: 2px 12px; margin: 0; }
.lda .kv dt { color: var(--c-text-2); }
.lda .kv dd { margin: 0; min-width: 0; overflow-wrap: anywhere; }
.lda .badges { display: flex; gap: 4px; flex-wrap: wrap; }
.lda .preset-editor { border: 1px solid var(--c-border); border-radius: 6px; padding: 8px; }

/* Advanced settings: closed by default, one line */
.lda details.advanced > summary { cursor: pointer; color: var(--c-text-2); font-weight: 500; padding: 4px 0; list-style-position: inside; }
.lda details.advanced > summary:hover { color: var(--c-text); }
.lda details.advanced[open] > summary { margin-bottom: 8px; }
.lda details.card > summary { cursor: pointer; }
.lda details.card[open] > summary { margin-bottom: 8px; }
.lda .get-started { display: flex; flex-direction: column; gap: 8px; border-color: var(--c-border-focus); }
/* a placeholder must not read as a real prompt */
.lda textarea::placeholder, .lda input::placeholder { color: var(--c-text-3); font-style: italic; opacity: 1; }
/* the corner handle that resizes the plugin window */
.lda { position: relative; }
.lda .resize-handle {
  position: absolute; right: 0; bottom: 0; width: 14px; height: 14px; cursor: nwse-resize; touch-action: none; z-index: 5;
  background: linear-gradient(135deg, transparent 0 45%, var(--c-text-3) 45% 52%, transparent 52% 65%, var(--c-text-3) 65% 72%, transparent 72%);
}
/* narrow windows (Figma's plugin panel can be 240 px): tabs stay readable */
@media (max-width: 320px) {
  .lda .nav { flex-wrap: wrap; }
  .lda .nav-tab { padding: 4px 6px 8px; }
  .lda .segmented[role="tablist"] { display: grid; grid-template-columns: 1fr 1fr; }
  .lda .segmented[role="tablist"] button { overflow: visible; }
  .lda .grid2 { grid-template-columns: 1fr; }
}
`;

/** Injects the CSS once per document; returns a remover. */
export function injectStyles(doc: Document): () => void {
  const existing = doc.getElementById('lda-styles');
  if (existing) return () => undefined;
  const style = doc.createElement('style');
  style.id = 'lda-styles';
  style.textContent = APP_CSS;
  doc.head.append(style);
  return () => style.remove();
}
