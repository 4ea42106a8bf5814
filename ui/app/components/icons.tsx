/** Small 16px line icons (decorative: always aria-hidden; the button carries the label). */
import type { JSX } from 'preact';

const Svg = (props: { children: JSX.Element | JSX.Element[] }) => (
  <svg width="16" height="16" viewBox="0 0 16 16" fill="none" stroke="currentColor" stroke-width="1" aria-hidden="true" focusable="false">
    {props.children}
  </svg>
);

export const IconCopy = () => <Svg><rect x="5.5" y="5.5" width="7" height="7" rx="1" /><path d="M10.5 5.5v-2a1 1 0 0 0-1-1h-5a1 1 0 0 0-1 1v5a1 1 0 0 0 1 1h1" /></Svg>;
export const IconReset = () => <Svg><path d="M3.5 8a4.5 4.5 0 1 0 1.4-3.3" /><path d="M4.5 2.5v2.5H7" /></Svg>;
export const IconInfo = () => <Svg><circle cx="8" cy="8" r="5.5" /><path d="M8 7.5v3M8 5.3v.4" /></Svg>;
export const IconWarning = () => <Svg><path d="M8 2.5 14 13H2z" stroke-linejoin="round" /><path d="M8 6.5v3M8 11v.4" /></Svg>;
export const IconClose = () => <Svg><path d="M4.5 4.5l7 7M11.5 4.5l-7 7" /></Svg>;
export const IconEdit = () => <Svg><path d="M10.5 3.5l2 2L6 12H4v-2z" stroke-linejoin="round" /></Svg>;
export const IconDice = () => <Svg><rect x="3" y="3" width="10" height="10" rx="2" /><circle cx="6" cy="6" r=".6" fill="currentColor" /><circle cx="10" cy="10" r=".6" fill="currentColor" /><circle cx="8" cy="8" r=".6" fill="currentColor" /></Svg>;
