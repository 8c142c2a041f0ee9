// The unix VMOD through a running Shellac: a client on a Unix socket listener is told its own
// user and group (this test process is the peer), a client over TCP gets -1 and no names, and a
// call in vcl_init keeps the VCL from loading, as in Varnish.

import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Params } from '../../src/common/params.ts';
import { Shellac } from '../../src/proxy/server.ts';

const VCL = `vcl 4.1;
import unix;
backend default none;
sub vcl_recv { return (synth(200)); }
sub vcl_synth {
  set resp.http.uid = unix.uid();
  set resp.http.gid = unix.gid();
  set resp.http.user = unix.user();
  set resp.http.group = unix.group();
}
`;

let srv: Shellac | undefined;
afterEach(async () => {
  await srv?.close(500);
  srv = undefined;
});

function ask(to: { socketPath: string } | { port: number }): Promise<Record<string, string | string[] | undefined>> {
  return new Promise((resolve, reject) => {
    const r = request({ ...to, host: '127.0.0.1', path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers));
    });
    r.on('error', reject);
    r.end();
  });
}

describe('unix VMOD', () => {
  it("tells a client on a Unix socket its process's user and group; over TCP, -1 and no names (an empty header, as NULL gives in Varnish)", async () => {
    srv = new Shellac({ params: new Params([]), storageBytes: 1024 * 1024 });
    await srv.vcls.load('boot', { source: VCL });
    const path = join(mkdtempSync(join(tmpdir(), 'shellac-unix-')), 'listen.sock');
    const [, tcp] = await srv.listen([
      { name: 'a0', host: '', port: 0, path },
      { name: 'a1', host: '127.0.0.1', port: 0 },
    ]);
    const viaSocket = await ask({ socketPath: path });
    expect(viaSocket).toMatchObject({
      uid: String(process.geteuid?.()),
      gid: String(process.getegid?.()),
      user: userInfo().username,
      group: execFileSync('id', ['-gn'], { encoding: 'utf8' }).trim(),
    });
    const viaTcp = await ask({ port: tcp.port });
    expect([viaTcp.uid, viaTcp.gid, viaTcp.user, viaTcp.group]).toEqual(['-1', '-1', '', '']);
  });

  it('refuses to run in vcl_init: the VCL does not load', async () => {
    srv = new Shellac({ params: new Params([]), storageBytes: 1024 * 1024 });
    const load = srv.vcls.load('boot', { source: `vcl 4.1;\nimport unix;\nbackend default none;\nsub vcl_init { if (unix.uid() == 0) {} }\n` });
    await expect(load).rejects.toThrow(/may not be called in vcl_init or vcl_fini/);
  });
});
