// ESI pages stream: a page's literal bytes reach the client as they are fetched and parsed,
// before the rest of the page or its next include has come. Each origin below holds back the
// rest until the client shows it has the first part, so a proxy that waited for the whole page
// would never get the rest (a fallback releases it after 10 s, and the test then fails on
// `releasedByClient`).

import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BACKEND, closedAfterEach, startOrigin, startProxy } from '../helpers/proxy.ts';

const started = closedAfterEach();

const ESI_VCL = `${BACKEND}
sub vcl_backend_response { set beresp.do_esi = true; set beresp.do_gzip = beresp.http.x-gzip == "yes"; }`;

/** A hold that the client or, failing it, a 10 s timer releases; says which did. */
function hold(): { wait: Promise<void>; release: (byClient: boolean) => void; byClient: () => boolean | undefined } {
  let who: boolean | undefined;
  let resolve: () => void = () => {};
  const wait = new Promise<void>((r) => {
    resolve = r;
  });
  const timer = setTimeout(() => release(false), 10_000);
  const release = (byClient: boolean): void => {
    if (who !== undefined) return;
    who = byClient;
    clearTimeout(timer);
    resolve();
  };
  return { wait, release, byClient: () => who };
}

/** GETs a path; calls `seen` with the body so far (decoded) each time bytes arrive. */
function getStreaming(port: number, path: string, headers: Record<string, string>, seen: (body: Buffer) => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        seen(Buffer.concat(chunks));
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('ESI streaming', () => {
  it.each([
    ['plain', false],
    ['gzip', true],
  ])('sends a %s page’s first bytes while the page is still being fetched', async (_name, gzip) => {
    const rest = hold();
    const origin = started.origin(await startOrigin((req, res) => {
      if (req.url === '/f') {
        res.end('FRAG');
        return;
      }
      res.writeHead(200, { 'x-gzip': gzip ? 'yes' : 'no' });
      res.write('<html>before ');
      void rest.wait.then(() => res.end('<esi:include src="/f"/> after</html>'));
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
    const headers: Record<string, string> = gzip ? { 'Accept-Encoding': 'gzip' } : {};
    const body = await getStreaming(proxy.port, '/page', headers, (b) => {
      // A gzip stream is read as far as it goes (its end has not come yet).
      const text = gzip ? partialGunzip(b) : b.toString();
      if (text.includes('<html>before ')) rest.release(true);
    });
    expect((gzip ? gunzipSync(body) : body).toString()).toBe('<html>before FRAG after</html>');
    expect(rest.byClient()).toBe(true);
  });

  it('sends the bytes before an include while the include is still being fetched', async () => {
    const frag = hold();
    const origin = started.origin(await startOrigin((req, res) => {
      if (req.url === '/slow') void frag.wait.then(() => res.end('SLOW'));
      else res.end('<html>head <esi:include src="/slow"/> tail</html>');
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
    const body = await getStreaming(proxy.port, '/page', {}, (b) => {
      if (b.toString().includes('<html>head ')) frag.release(true);
    });
    expect(body.toString()).toBe('<html>head SLOW tail</html>');
    expect(frag.byClient()).toBe(true);
  });
});

/** What a gzip stream that has not ended yet inflates to so far. */
function partialGunzip(b: Buffer): string {
  try {
    return gunzipSync(b, { finishFlush: 2 /* Z_SYNC_FLUSH */ }).toString();
  } catch {
    return '';
  }
}
