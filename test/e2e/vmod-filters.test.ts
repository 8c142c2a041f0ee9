// Body filters added by a VMOD (the debug VMOD's `rot13` and `debug.pedantic`, added at load as
// Varnish's debug module adds them), named in beresp.filters and resp.filters beside the
// built-in ones, over real sockets.

import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { getBytes } from '../helpers/bytes.ts';
import { BACKEND, closedAfterEach, type Origin, startOrigin, startProxy } from '../helpers/proxy.ts';

const started = closedAfterEach();

const TEXT = 'Ponto Facto, Caesar Transit!';
const ROT = 'Cbagb Snpgb, Pnrfne Genafvg!';

function pages(table: Record<string, string>): Promise<Origin> {
  return startOrigin((req, res) => {
    const page = table[req.url ?? ''] ?? 'missing';
    if (page.startsWith('gz:')) {
      res.writeHead(200, { 'Content-Encoding': 'gzip' });
      res.end(gzipSync(page.slice(3)));
      return;
    }
    res.end(page);
  });
}

const vcl = (subs: string): string => `${BACKEND.replace('vcl 4.1;', 'vcl 4.1;\nimport debug;')}${subs}`;

describe('VMOD filters', () => {
  it('runs a VMOD fetch filter named in beresp.filters: the stored body is filtered once', async () => {
    const origin = started.origin(await pages({ '/': TEXT }));
    const proxy = started.proxy(await startProxy(vcl('sub vcl_backend_response { set beresp.filters = "rot13"; }'), { origin }));
    for (let i = 0; i < 2; i++) {
      const r = await getBytes(proxy.port, '/');
      expect(r.body.toString()).toBe(ROT);
    }
    expect(origin.seen).toHaveLength(1);
  });

  it('runs a VMOD delivery filter after the built-in ones, and debug.pedantic passes bytes on', async () => {
    const origin = started.origin(await pages({ '/plain': TEXT, '/gz': `gz:${TEXT}` }));
    const proxy = started.proxy(await startProxy(vcl('sub vcl_deliver { set resp.filters += " rot13 debug.pedantic"; }'), { origin }));
    const plain = await getBytes(proxy.port, '/plain');
    expect(plain.body.toString()).toBe(ROT);
    // gunzip (the default list for a client without gzip) runs first, then rot13 on plain bytes.
    const gz = await getBytes(proxy.port, '/gz');
    expect(gz.headers['content-encoding']).toBeUndefined();
    expect(gz.body.toString()).toBe(ROT);
  });

  it('refuses a name no filter has, and a VMOD filter named on the chain it has no side on', async () => {
    const origin = started.origin(await pages({ '/': TEXT }));
    const proxy = started.proxy(await startProxy(
      vcl(`sub vcl_backend_response { if (bereq.url == "/fetch") { set beresp.filters = "debug.pedantic"; } }
sub vcl_deliver { if (req.url == "/nope") { set resp.filters = "rot14"; } }`),
      { origin },
    ));
    expect((await getBytes(proxy.port, '/fetch')).status).toBe(503);
    expect((await getBytes(proxy.port, '/nope')).status).toBe(503);
    expect((await getBytes(proxy.port, '/')).body.toString()).toBe(TEXT);
  });

  it('filters an include of a gzip ESI page as plain bytes, stitched into one valid gzip stream', async () => {
    const origin = started.origin(await pages({ '/page': 'gz:<p><esi:include src="/frag"/></p>', '/frag': TEXT }));
    const proxy = started.proxy(await startProxy(
      vcl(`sub vcl_backend_response { set beresp.do_esi = true; }
sub vcl_deliver { if (req.esi_level > 0) { set resp.filters += " rot13"; } }`),
      { origin },
    ));
    const r = await getBytes(proxy.port, '/page', { 'Accept-Encoding': 'gzip' });
    expect(r.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(r.body).toString()).toBe(`<p>${ROT}</p>`);
    const plain = await getBytes(proxy.port, '/page');
    expect(plain.body.toString()).toBe(`<p>${ROT}</p>`);
  });
});
