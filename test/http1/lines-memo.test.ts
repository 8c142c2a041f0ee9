// A keep-alive connection that sends the same header lines again has them read once
// (src/http1/head.ts LinesMemo), and its requests share the req lines made of them until VCL
// changes one (VclHttp.requestSharing): what VCL did to one request's req must never show in
// the next one's.

import { connect } from 'node:net';
import { expect, it } from 'vitest';
import { closedAfterEach, sleep, startProxy } from '../helpers/proxy.ts';

const close = closedAfterEach();

const VCL = `vcl 4.1;
backend default none;
sub vcl_recv {
  if (req.url == "/change") {
    set req.http.X-Seen = "changed";
    unset req.http.Accept;
    set req.http.X-Forwarded-For = "rewritten";
  }
  return (synth(200));
}
sub vcl_synth {
  set resp.http.X-Seen = req.http.X-Seen;
  set resp.http.X-Accept = req.http.Accept;
  set resp.http.X-XFF = req.http.X-Forwarded-For;
}
`;

/** Sends the requests one after another on one connection; returns each answer's head. */
async function sequence(port: number, paths: readonly string[]): Promise<string[]> {
  const sock = connect(port, '127.0.0.1');
  let text = '';
  sock.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  const heads: string[] = [];
  for (const path of paths) {
    sock.write(`GET ${path} HTTP/1.1\r\nHost: h\r\nAccept: */*\r\nUser-Agent: t\r\n\r\n`);
    for (let i = 0; i < 300 && !/\r\n\r\n/.test(text); i++) await sleep(10);
    const end = text.indexOf('\r\n\r\n');
    const length = Number(/Content-Length: (\d+)/.exec(text.slice(0, end))?.[1] ?? 0);
    for (let i = 0; i < 300 && text.length < end + 4 + length; i++) await sleep(10);
    heads.push(text.slice(0, end));
    text = text.slice(end + 4 + length);
  }
  sock.destroy();
  return heads;
}

it("keeps what VCL did to one request's req out of the next one's on the same connection", async () => {
  const proxy = close.proxy(await startProxy(VCL));
  const heads = await sequence(proxy.port, ['/plain', '/plain', '/change', '/plain', '/change', '/plain']);
  const plain = heads.filter((_, i) => i !== 2 && i !== 4);
  for (const h of plain) {
    expect(h).toMatch(/\r\nX-Seen: \r\n/);
    expect(h).toMatch(/\r\nX-Accept: \*\/\*\r\n/);
    expect(h).toMatch(/\r\nX-XFF: 127\.0\.0\.1\r\n/);
  }
  for (const h of [heads[2], heads[4]]) {
    expect(h).toMatch(/\r\nX-Seen: changed\r\n/);
    expect(h).toMatch(/\r\nX-Accept: \r\n/);
    expect(h).toMatch(/\r\nX-XFF: rewritten\r\n/);
  }
});
