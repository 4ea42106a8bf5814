/// <reference path="../../node_modules/@figma/plugin-typings/plugin-api.d.ts" />
import { describe, expect, it } from 'vitest';
import { createImage, encodePng } from '../../ui/core/image';
import { CLIENT_STORAGE_QUOTA_BYTES, createFakeFigma, PLUGIN_DATA_ENTRY_LIMIT, readImageHeader } from '../fake-figma';
import { sha1Hex } from '../fake-figma/sha1';

/** PNG signature + an IHDR claiming width × height (enough for the header check). */
function pngHeader(width: number, height: number): Uint8Array {
  const b = new Uint8Array(33);
  b.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  new DataView(b.buffer).setUint32(16, width);
  new DataView(b.buffer).setUint32(20, height);
  return b;
}
const jpegHeader = (w: number, h: number): Uint8Array =>
  new Uint8Array([0xff, 0xd8, 0xff, 0xe0, 0, 4, 0, 0, 0xff, 0xc0, 0, 11, 8, h >> 8, h & 255, w >> 8, w & 255, 3, 0, 0, 0]);
const gifHeader = (w: number, h: number): Uint8Array => new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, w & 255, w >> 8, h & 255, h >> 8, 0, 0, 0]);

describe('createImage', () => {
  it('accepts PNG up to 4096 px per side and throws "Image is too large" beyond', async () => {
    const { figma } = createFakeFigma();
    const ok = figma.createImage(encodePng(createImage(4096, 1)));
    expect(await ok.getSizeAsync()).toEqual({ width: 4096, height: 1 });
    expect(() => figma.createImage(encodePng(createImage(4097, 1)))).toThrow(/Image is too large/);
    expect(() => figma.createImage(pngHeader(1, 5000))).toThrow(/Image is too large \(1×5000/);
  });
  it('hashes like Figma (SHA-1 of the bytes), returns the original bytes, finds images by hash', async () => {
    expect(sha1Hex(new TextEncoder().encode('abc'))).toBe('a9993e364706816aba3e25717850c26c9cd0d89d');
    expect(sha1Hex(new Uint8Array(0))).toBe('da39a3ee5e6b4b0d3255bfef95601890afd80709');
    const { figma } = createFakeFigma();
    const bytes = encodePng(createImage(3, 2, [10, 20, 30, 255]));
    const img = figma.createImage(bytes);
    expect(img.hash).toBe(sha1Hex(bytes));
    expect(await img.getBytesAsync()).toEqual(bytes);
    expect(await figma.getImageByHash(img.hash)!.getSizeAsync()).toEqual({ width: 3, height: 2 });
    expect(figma.getImageByHash('0'.repeat(40))).toBeNull();
  });
  it('reads JPEG and GIF sizes from their headers and rejects other bytes', async () => {
    expect(readImageHeader(jpegHeader(640, 480))).toEqual({ format: 'JPEG', width: 640, height: 480 });
    expect(readImageHeader(gifHeader(31, 7))).toEqual({ format: 'GIF', width: 31, height: 7 });
    const { figma } = createFakeFigma();
    expect(await figma.createImage(jpegHeader(640, 480)).getSizeAsync()).toEqual({ width: 640, height: 480 });
    expect(() => figma.createImage(jpegHeader(4097, 10))).toThrow(/too large/);
    expect(() => figma.createImage(new Uint8Array([1, 2, 3, 4, 5]))).toThrow(/unsupported/);
    expect(() => figma.createImage(pngHeader(10, 10))).toThrow(/invalid/); // a header alone does not decode
    expect(() => figma.createImage([1, 2, 3] as unknown as Uint8Array)).toThrow(/Uint8Array/);
  });
  it('rejects image fills whose hash was never created', () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    expect(() => { r.fills = [{ type: 'IMAGE', imageHash: 'f'.repeat(40), scaleMode: 'FILL' }]; }).toThrow(/does not exist/);
  });
});

describe('clientStorage (5 MB quota)', () => {
  it('stores plain data and Uint8Array, copied in and out', async () => {
    const { figma, host } = createFakeFigma();
    const value = { a: [1, 'x', null, true], bytes: new Uint8Array([1, 2, 3]) };
    await figma.clientStorage.setAsync('k', value);
    value.a.push(99);
    const back = await figma.clientStorage.getAsync('k');
    expect(back).toEqual({ a: [1, 'x', null, true], bytes: new Uint8Array([1, 2, 3]) });
    expect(back.bytes).toBeInstanceOf(Uint8Array);
    back.a.push(5);
    expect((await figma.clientStorage.getAsync('k')).a).toHaveLength(4);
    expect(await figma.clientStorage.keysAsync()).toEqual(['k']);
    expect(await figma.clientStorage.getAsync('missing')).toBeUndefined();
    await figma.clientStorage.deleteAsync('k');
    expect(await figma.clientStorage.keysAsync()).toEqual([]);
    expect(host.clientStorageBytes()).toBe(0);
  });
  it('rejects a write that would exceed 5 MB in total, storing nothing', async () => {
    const { figma, host } = createFakeFigma();
    await figma.clientStorage.setAsync('big', new Uint8Array(4_900_000));
    await expect(figma.clientStorage.setAsync('more', new Uint8Array(200_000))).rejects.toThrow(/quota exceeded/);
    expect(await figma.clientStorage.keysAsync()).toEqual(['big']);
    await expect(figma.clientStorage.setAsync('text', 'x'.repeat(150_000))).rejects.toThrow(/5 MB/);
    // replacing a value counts only the new size
    await figma.clientStorage.setAsync('big', new Uint8Array(CLIENT_STORAGE_QUOTA_BYTES - 3));
    expect(host.clientStorageBytes()).toBe(CLIENT_STORAGE_QUOTA_BYTES);
    await figma.clientStorage.deleteAsync('big');
    await figma.clientStorage.setAsync('more', new Uint8Array(200_000));
  });
  it('rejects values Figma cannot store', async () => {
    const { figma } = createFakeFigma();
    await expect(figma.clientStorage.setAsync('f', new Float32Array(2))).rejects.toThrow(/Float32Array/);
    await expect(figma.clientStorage.setAsync('m', { m: new Map() })).rejects.toThrow(/m\.m/);
  });
  it('persists across plugin runs when the host keeps the map', async () => {
    const storage = new Map<string, unknown>();
    await createFakeFigma({ clientStorage: storage }).figma.clientStorage.setAsync('settings', { steps: 20 });
    expect(await createFakeFigma({ clientStorage: storage }).figma.clientStorage.getAsync('settings')).toEqual({ steps: 20 });
  });
});

describe('pluginData (100 kB per entry)', () => {
  it('stores strings per node, returns "" when missing, deletes on ""', () => {
    const { figma } = createFakeFigma({ pluginId: 'abc' });
    const r = figma.createRectangle();
    expect(r.getPluginData('recipe')).toBe('');
    r.setPluginData('recipe', '{"seed":1}');
    expect(r.getPluginData('recipe')).toBe('{"seed":1}');
    expect(r.getPluginDataKeys()).toEqual(['recipe']);
    r.setPluginData('recipe', '');
    expect(r.getPluginDataKeys()).toEqual([]);
    expect(() => r.setPluginData('n', 5 as unknown as string)).toThrow(/string/);
  });
  it('throws when pluginId + key + value exceed 100 kB', () => {
    const { figma } = createFakeFigma({ pluginId: 'abc' });
    const r = figma.createRectangle();
    const room = PLUGIN_DATA_ENTRY_LIMIT - 'abc'.length - 'recipe'.length;
    r.setPluginData('recipe', 'x'.repeat(room));
    expect(() => r.setPluginData('recipe', 'x'.repeat(room + 1))).toThrow(/100 kB/);
    expect(r.getPluginData('recipe')).toHaveLength(room); // the failed write changed nothing
    expect(() => r.setPluginData('recipe', 'é'.repeat(Math.ceil(room / 2) + 1))).toThrow(/100 kB/); // UTF-8 bytes
  });
  it('shared plugin data needs a namespace of 3+ characters and has the same limit', () => {
    const { figma } = createFakeFigma();
    const r = figma.createRectangle();
    r.setSharedPluginData('ldiff', 'seed', '7');
    expect(r.getSharedPluginData('ldiff', 'seed')).toBe('7');
    expect(() => r.setSharedPluginData('ab', 'seed', '7')).toThrow(/Namespace/);
    expect(() => r.setSharedPluginData('ldiff', 'k', 'x'.repeat(PLUGIN_DATA_ENTRY_LIMIT))).toThrow(/100 kB/);
  });
});
