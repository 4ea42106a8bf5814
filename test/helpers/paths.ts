import { fileURLToPath } from 'node:url';
import path from 'node:path';

/** Project root (the repo). */
export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Real reference data lives beside the repo, never copied into it. */
export const ASSETS = path.resolve(ROOT, '../shared/assets');
export const DIST = path.join(ROOT, 'dist');
/** Scratch output of tests (screenshots, generated models); git-ignored. */
export const ARTIFACTS = path.join(ROOT, 'test-results');
