/**
 * Launches Debian's Chromium through playwright-core with a real WebGPU adapter (SwiftShader).
 * Every browser test uses this, so flags live in one place.
 */
import { chromium, type Browser, type BrowserContext } from 'playwright-core';
import fs from 'node:fs';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const LAUNCH = {
  executablePath: CHROMIUM_PATH,
  headless: true,
  args: [
    '--no-sandbox',
    '--enable-unsafe-webgpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
};

function checkChromium(): void {
  if (!fs.existsSync(CHROMIUM_PATH)) {
    throw new Error(`Chromium not found at ${CHROMIUM_PATH}. Install it with: apt-get install -y chromium`);
  }
}

export async function launchChromium(): Promise<Browser> {
  checkChromium();
  // playwright-core gives every launch a fresh temporary profile (its own --user-data-dir).
  return chromium.launch(LAUNCH);
}

/**
 * Chromium on a regular on-disk profile in `userDataDir` (what a designer's browser has). `launchChromium`'s contexts
 * are off-the-record: storage such as OPFS lives in memory there, behind an IPC per call.
 */
export async function launchChromiumPersistent(userDataDir: string): Promise<BrowserContext> {
  checkChromium();
  return chromium.launchPersistentContext(userDataDir, LAUNCH);
}
