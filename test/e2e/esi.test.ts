// ESI end to end, as Varnish 7.1 does it: the body parsed once at fetch time, includes run as
// sub-requests through the client state machine, gzip pages stitched from stored deflate data
// (checked with node's own zlib), errors counted and limits kept.

import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { BACKEND, closedAfterEach, type Origin, startOrigin, startProxy, stat } from '../helpers/proxy.ts';
import { getBytes as fetchRaw } from '../helpers/bytes.ts';

const started = closedAfterEach();

/** An origin serving a table of pages; a `gz:` prefix sends the rest gzipped. */
function pages(table: Record<string, string>): Promise<Origin> {
  return startOrigin((req, res) => {
    const page = table[req.url ?? ''];
    if (page === undefined) {
      res.writeHead(404);
      res.end('missing');
      return;
    }
    if (page.startsWith('gz:')) {
      res.writeHead(200, { 'Content-Encoding': 'gzip', 'Cache-Control': 'max-age=60' });
      res.end(gzipSync(page.slice(3)));
      return;
    }
    res.writeHead(200, { 'Cache-Control': 'max-age=60' });
    res.end(page);
  });
}

const ESI_VCL = `${BACKEND}
sub vcl_recv { set req.http.x-level = req.esi_level; }
sub vcl_backend_response { set beresp.do_esi = true; }
sub vcl_deliver { set resp.http.x-can-esi = obj.can_esi; }`;

describe('ESI', () => {
  it('assembles includes, removes, comments and <!--esi, with includes as sub-requests', async () => {
    const origin = started.origin(await pages({
      '/dir/page': '<html><esi:include src="frag"/>|<esi:remove>gone</esi:remove><!--esi <esi:include src="/top"/> -->|<esi:comment text="x"/>end</html>',
      '/dir/frag': 'FRAG',
      '/top': 'TOP',
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
    const r = await fetchRaw(proxy.port, '/dir/page');
    expect(r.body.toString()).toBe('<html>FRAG| TOP |end</html>');
    expect(r.headers['content-length']).toBeUndefined();
    expect(r.headers['x-can-esi']).toBe('true');
    // The includes went through vcl_recv one level down.
    const levels = origin.seen.map((s) => [s.url, s.headers['x-level']]);
    expect(levels).toEqual([
      ['/dir/page', '0'],
      ['/dir/frag', '1'],
      ['/top', '1'],
    ]);
    // Everything cached: a second page is made from the cache, parsed only at fetch time.
    const again = await fetchRaw(proxy.port, '/dir/page');
    expect(again.body.toString()).toBe(r.body.toString());
    expect(origin.seen).toHaveLength(3);
    expect(stat(proxy, 'esi_req')).toBe(4);
    expect(stat(proxy, 's_req')).toBe(2);
    expect(stat(proxy, 's_resp_bodybytes')).toBe(2 * r.body.length);
    expect(stat(proxy, 'esi_errors')).toBe(0);
  });

  it('delivers a gzip page to a gzip client as one valid gzip stream, and plain bytes to others', async () => {
    const frag = 'fragment text '.repeat(50);
    const origin = started.origin(await pages({
      '/g': `gz:<p>${'head '.repeat(40)}<esi:include src="/plainfrag"/><esi:include src="/gzfrag"/><esi:include src="/zipped"/></p>`,
      '/plainfrag': frag,
      '/gzfrag': `gz:${frag}`,
    }));
    const proxy = started.proxy(await startProxy(`${ESI_VCL}
      sub vcl_backend_response { if (bereq.url == "/zipped") { set beresp.do_esi = false; set beresp.do_gzip = true; } }`, { origin }));
    // /zipped is a plain 404 page gzipped by Shellac (its body still stitches).
    const expected = `<p>${'head '.repeat(40)}${frag}${frag}missing</p>`;
    const zipped = await fetchRaw(proxy.port, '/g', { 'Accept-Encoding': 'gzip' });
    expect(zipped.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(zipped.body).toString()).toBe(expected);
    const plain = await fetchRaw(proxy.port, '/g');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(expected);
    const zippedAgain = await fetchRaw(proxy.port, '/g', { 'Accept-Encoding': 'gzip' });
    expect(zippedAgain.body.equals(zipped.body)).toBe(true);
    // The fetches compressed what they stored (the page, /gzfrag parsed for ESI, /zipped);
    // delivery compressed nothing.
    expect(stat(proxy, 'n_gzip')).toBe(3);
  });

  it('counts XML errors, skips bodies that are not XML, and honours esi_disable_xml_check', async () => {
    const origin = started.origin(await pages({
      '/bad': '<a><esi:bogus/><esi:remove><esi:include src="/x"/></esi:remove></a>',
      '/text': 'text first <esi:include src="/x"/>',
      '/x': 'X',
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
    const bad = await fetchRaw(proxy.port, '/bad');
    expect(bad.body.toString()).toBe('<a></a>');
    expect(stat(proxy, 'esi_errors')).toBe(2);
    const text = await fetchRaw(proxy.port, '/text');
    expect(text.body.toString()).toBe('text first <esi:include src="/x"/>');
    // The fetch streams the page to its first client, maybe before its first byte is parsed;
    // once parsed, obj.can_esi says it is not XML.
    const again = await fetchRaw(proxy.port, '/text');
    expect(again.body.toString()).toBe('text first <esi:include src="/x"/>');
    expect(again.headers['x-can-esi']).toBe('false');
  });

  it('parses a body that is not XML with feature esi_disable_xml_check', async () => {
    const origin = started.origin(await pages({ '/text': 'text first <esi:include src="/x"/>', '/x': 'X' }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin, params: [['feature', '+esi_disable_xml_check']] }));
    const text = await fetchRaw(proxy.port, '/text');
    expect(text.body.toString()).toBe('text first X');
  });

  it('stops at max_esi_depth and lets resp.do_esi switch processing off', async () => {
    const origin = started.origin(await pages({ '/loop': '<l><esi:include src="/loop"/></l>', '/raw': '<r><esi:include src="/loop"/></r>' }));
    const proxy = started.proxy(await startProxy(`${ESI_VCL}
      sub vcl_deliver { if (req.url == "/raw") { set resp.do_esi = false; } }`, { origin, params: [['max_esi_depth', '3']] }));
    const r = await fetchRaw(proxy.port, '/loop');
    expect(r.body.toString()).toBe('<l><l><l><l></l></l></l></l>');
    const raw = await fetchRaw(proxy.port, '/raw');
    expect(raw.body.toString()).toBe('<r><esi:include src="/loop"/></r>');
  });

  it('sets Host from an http:// include and keeps the page going after a failed include', async () => {
    const origin = started.origin(await pages({ '/p': '<p><esi:include src="http://other.example/h"/>|<esi:include src="/nothere"/>|</p>', '/h': 'H' }));
    const proxy = started.proxy(await startProxy(`${ESI_VCL}
      sub vcl_deliver { if (req.esi_level > 0) { set resp.http.x = "1"; } }`, { origin }));
    const r = await fetchRaw(proxy.port, '/p');
    expect(r.body.toString()).toBe('<p>H|missing|</p>');
    expect(origin.seen.find((s) => s.url === '/h')?.headers.host).toBe('other.example');
  });

  it('ends the page at a failed include with feature esi_include_onerror, unless onerror="continue"', async () => {
    const origin = started.origin(await pages({
      '/stop': '<p>a<esi:include src="/nothere"/>b</p>',
      '/go': '<p>a<esi:include src="/nothere" onerror="continue"/>b</p>',
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin, params: [['feature', '+esi_include_onerror']] }));
    const go = await fetchRaw(proxy.port, '/go');
    expect(go.body.toString()).toBe('<p>amissingb</p>');
    await expect(fetchRaw(proxy.port, '/stop')).rejects.toThrow();
  });

  it('starts the includes of a page together by default, delivered in page order', async () => {
    // The origin answers no fragment until it has been asked for all ten: fetched one after
    // another, the first would wait for the last. (A fallback answers all after 10 s so that
    // such a failure shows in `most` instead of a hang.)
    const held: (() => void)[] = [];
    let released = false;
    let inFlight = 0;
    let most = 0;
    const urls = Array.from({ length: 10 }, (_, i) => `/f${i}`);
    const origin = started.origin(await startOrigin((req, res) => {
      if (req.url === '/page') {
        res.end(`<p>${urls.map((u) => `<esi:include src="${u}"/>`).join('')}</p>`);
        return;
      }
      inFlight++;
      most = Math.max(most, inFlight);
      held.push(() => {
        inFlight--;
        res.end(`[${req.url}]`);
      });
      if (released || held.length === urls.length) for (const answer of held.splice(0)) answer();
    }));
    const fallback = setTimeout(() => {
      released = true;
      for (const answer of held.splice(0)) answer();
    }, 10_000);
    try {
      const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
      const r = await fetchRaw(proxy.port, '/page');
      expect(r.body.toString()).toBe(`<p>${urls.map((u) => `[${u}]`).join('')}</p>`);
      expect(most).toBe(10);
    } finally {
      clearTimeout(fallback);
    }
  });

  it('runs at most 64 includes of one top request ahead of delivery', async () => {
    // A hundred fragments: the origin holds each until 64 are in flight, notes how many include
    // sub-requests had started by then (all hundred, were there no bound), and answers them all
    // and the rest as they come.
    const held: (() => void)[] = [];
    let released = false;
    let startedAt64 = -1;
    const urls = Array.from({ length: 100 }, (_, i) => `/f${i}`);
    const origin = started.origin(await startOrigin((req, res) => {
      if (req.url === '/page') {
        res.end(urls.map((u) => `<esi:include src="${u}"/>`).join(''));
        return;
      }
      held.push(() => res.end('.'));
      if (!released && held.length === 64 && proxy) startedAt64 = stat(proxy, 'esi_req');
      if (released || held.length === 64) {
        released = true;
        for (const answer of held.splice(0)) answer();
      }
    }));
    const proxy = started.proxy(await startProxy(ESI_VCL, { origin }));
    const r = await fetchRaw(proxy.port, '/page');
    expect(r.body.toString()).toBe('.'.repeat(100));
    expect(startedAt64).toBe(64);
    expect(stat(proxy, 'esi_req')).toBe(100);
  });

  it('shares PRIV_TOP and req_top with includes started together, nested ones too', async () => {
    const origin = started.origin(await startOrigin((req, res) => {
      if (req.url === '/page') res.end('<p><esi:include src="/a"/><esi:include src="/b"/></p>');
      else if (req.url === '/a') res.end('<a><esi:include src="/c"/></a>');
      else res.end(`[${req.url} top=${req.headers['x-top']} req_top=${req.headers['x-req-top']}]`);
    }));
    const proxy = started.proxy(await startProxy(
      `${BACKEND.replace('vcl 4.1;', 'vcl 4.1;\nimport debug;')}
sub vcl_recv { set req.http.x-top = debug.test_priv_top(req.url); set req.http.x-req-top = req_top.url; }
sub vcl_backend_response { set beresp.do_esi = true; }`,
      { origin },
    ));
    const r = await fetchRaw(proxy.port, '/page');
    expect(r.body.toString()).toBe('<p><a>[/c top=/page req_top=/page]</a>[/b top=/page req_top=/page]</p>');
  });
});
