// A small origin server for `npm start` and for trying Shellac by hand: a few linked HTML pages
// that each show one caching behaviour (cacheable, long-lived, uncacheable, slow, revalidated
// with ETag, private, setting a cookie). Every page says when the origin made it, so a reload
// served from the cache is visibly the same page.

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface DemoOriginOptions {
  /** 0 picks a free port. */
  readonly port?: number;
  /** How long /slow takes, in milliseconds (2000). */
  readonly slowMs?: number;
}

export interface DemoOrigin {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  close(): Promise<void>;
}

interface Page {
  readonly title: string;
  /** What the page shows about caching, one sentence. */
  readonly about: string;
  readonly cacheControl: string;
}

const PAGES: Readonly<Record<string, Page>> = {
  '/': { title: 'Shellac demo origin', about: 'Cacheable for 60 seconds: reload and the time below stays put.', cacheControl: 'public, max-age=60' },
  '/slow': { title: 'A slow page', about: 'The origin takes 2 seconds; from the cache it is instant.', cacheControl: 'public, max-age=60' },
  '/private': { title: 'A private page', about: 'Cache-Control: private, so a shared cache never keeps it.', cacheControl: 'private' },
  '/cookie': { title: 'A page that sets a cookie', about: 'It sends Set-Cookie, so the builtin VCL will not cache it.', cacheControl: 'public, max-age=60' },
  '/etag': { title: 'A page with an ETag', about: 'Send If-None-Match with its ETag and get 304 Not Modified.', cacheControl: 'public, max-age=30' },
};

const LINKS: readonly [string, string][] = [
  ['/', 'home (cacheable, 60 s)'],
  ['/static/style.css', 'a stylesheet (cacheable for a day)'],
  ['/api/time', 'the time as JSON (never cached)'],
  ['/slow', 'a slow page (2 s at the origin)'],
  ['/etag', 'an ETag page (304 on If-None-Match)'],
  ['/private', 'a private page'],
  ['/cookie', 'a page that sets a cookie'],
];

const STYLE = 'body { font-family: sans-serif; max-width: 40em; margin: 2em auto; }\ncode { background: #eee; }\n';

export function startDemoOrigin(options: DemoOriginOptions = {}): Promise<DemoOrigin> {
  const slowMs = options.slowMs ?? 2000;
  const etag = `"demo-${Date.now().toString(36)}"`;
  const server = createServer((req, res) => {
    route(req, res, slowMs, etag);
  });
  server.keepAliveTimeout = 65_000; // longer than a proxy keeps idle connections
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function route(req: IncomingMessage, res: ServerResponse, slowMs: number, etag: string): void {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/api/time') {
    send(res, 200, 'application/json', 'no-store', `${JSON.stringify({ now: new Date().toISOString() })}\n`);
    return;
  }
  if (path.startsWith('/static/')) {
    if (path === '/static/style.css') send(res, 200, 'text/css', 'public, max-age=86400', STYLE);
    else send(res, 404, 'text/html; charset=utf-8', 'public, max-age=60', page('Not found', `There is no ${escapeHtml(path)}.`));
    return;
  }
  const known = PAGES[path];
  if (!known) {
    send(res, 404, 'text/html; charset=utf-8', 'public, max-age=10', page('Not found', `There is no ${escapeHtml(path)} here.`));
    return;
  }
  const html = page(known.title, known.about);
  if (path === '/slow') {
    setTimeout(() => send(res, 200, 'text/html; charset=utf-8', known.cacheControl, html), slowMs);
    return;
  }
  if (path === '/etag') {
    res.setHeader('ETag', etag);
    if (matchesEtag(req.headers['if-none-match'], etag)) {
      res.writeHead(304, { 'Cache-Control': known.cacheControl });
      res.end();
      return;
    }
  }
  if (path === '/cookie') res.setHeader('Set-Cookie', `demo=${Date.now().toString(36)}; Path=/`);
  send(res, 200, 'text/html; charset=utf-8', known.cacheControl, html);
}

function send(res: ServerResponse, status: number, type: string, cacheControl: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': type,
    'Cache-Control': cacheControl,
    'Content-Length': Buffer.byteLength(body),
    'X-Generated-At': new Date().toISOString(),
  });
  res.end(body);
}

function matchesEtag(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(',').some((t) => {
    const tag = t.trim();
    return tag === '*' || tag === etag || tag === `W/${etag}`;
  });
}

function page(title: string, about: string): string {
  const links = LINKS.map(([href, text]) => `<li><a href="${href}">${href}</a>: ${text}</li>`).join('\n');
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${title}</title><link rel="stylesheet" href="/static/style.css"></head>
<body>
<h1>${title}</h1>
<p>${about}</p>
<p>The origin made this page at <strong>${new Date().toISOString()}</strong>.</p>
<p>Look at the <code>Age</code> and <code>X-Varnish</code> headers (<code>curl -i</code>): a second
number in <code>X-Varnish</code> and a non-zero <code>Age</code> mean a cache hit.</p>
<ul>
${links}
</ul>
</body></html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}
