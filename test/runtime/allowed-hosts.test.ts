import { describe, expect, it } from 'vitest';
import fs from 'node:fs';
import path from 'node:path';
import { ALLOWED_DOMAINS, DEV_ALLOWED_DOMAINS, isUrlAllowed, matchesDomain } from '../../ui/runtime/allowed-hosts';
import { fetchAllowedAsync } from '../../ui/runtime/fetch-allowed';
import { AppError } from '../../protocol/errors';
import { builtinCatalog } from '../../ui/runtime/catalog';
import { ROOT } from '../helpers/paths';

describe('allowlist matching (Figma networkAccess syntax)', () => {
  it('matches exact hosts, wildcards, schemes, ports and paths', () => {
    const u = (s: string) => new URL(s);
    expect(matchesDomain(u('https://huggingface.co/a/b'), 'https://huggingface.co')).toBe(true);
    expect(matchesDomain(u('http://huggingface.co/a'), 'https://huggingface.co')).toBe(false);
    expect(matchesDomain(u('https://evilhuggingface.co/'), 'https://huggingface.co')).toBe(false);
    expect(matchesDomain(u('https://us.aws.cdn.hf.co/x'), 'https://*.hf.co')).toBe(true);
    expect(matchesDomain(u('https://hf.co/x'), 'https://*.hf.co')).toBe(false);
    expect(matchesDomain(u('https://nothf.co/x'), 'https://*.hf.co')).toBe(false);
    expect(matchesDomain(u('http://localhost:8787/p'), 'http://localhost:8787')).toBe(true);
    expect(matchesDomain(u('http://localhost:9999/p'), 'http://localhost:8787')).toBe(false);
    expect(matchesDomain(u('https://a.com/models/x.onnx'), 'a.com/models/')).toBe(true);
    expect(matchesDomain(u('https://a.com/other'), 'a.com/models/')).toBe(false);
    expect(matchesDomain(u('https://a.com/exact'), 'https://a.com/exact')).toBe(true);
    expect(matchesDomain(u('https://a.com/exact/more'), 'https://a.com/exact')).toBe(false);
    expect(isUrlAllowed('data:text/plain,hi', [])).toBe(true);
    expect(isUrlAllowed('not a url', ALLOWED_DOMAINS)).toBe(false);
  });

  it('every built-in model URL (files and tokenizer) is on the allowlist', () => {
    for (const e of builtinCatalog()) {
      const urls = [e.manifest.raw.tokenizer.vocab.url, e.manifest.raw.tokenizer.merges.url,
        ...Object.values(e.manifest.components).flatMap((c) => c!.files.map((f) => f.url))];
      for (const url of urls) expect(isUrlAllowed(url, ALLOWED_DOMAINS), url).toBe(true);
    }
  });

  it('lists the same dev domains as manifest.json devAllowedDomains', () => {
    const manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'manifest.json'), 'utf8'));
    expect([...DEV_ALLOWED_DOMAINS].sort()).toEqual([...manifest.networkAccess.devAllowedDomains].sort());
  });

  it('fetchAllowedAsync refuses a host before fetching, and a redirect to a host off the list', async () => {
    let calls = 0;
    // A fetch whose response was redirected to another host (Response.url is the final URL).
    const fetchImpl = async () => { calls++; return { url: 'https://evil.example/x', status: 200, body: null } as unknown as Response; };
    const err = await fetchAllowedAsync('https://evil.example/m.onnx', {}, { domains: ALLOWED_DOMAINS, fetch: fetchImpl }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('NETWORK_NOT_ALLOWED');
    expect((err as AppError).message).toContain('https://evil.example');
    expect(calls).toBe(0);
    const err2 = await fetchAllowedAsync('https://huggingface.co/m.onnx', {}, { domains: ALLOWED_DOMAINS, fetch: fetchImpl }).catch((e: unknown) => e);
    expect((err2 as AppError).code).toBe('NETWORK_NOT_ALLOWED');
    expect((err2 as AppError).message).toMatch(/redirected to https:\/\/evil\.example/);
    expect(calls).toBe(1);
  });
});
