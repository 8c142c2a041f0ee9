// The runner's admin CLI client against a loopback server speaking varnishd's framing
// (status and length padded into a 13-byte head, body, newline) and challenge auth.

import { createHash } from 'node:crypto';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { authResponse, CliClient, CliError } from '../../src/vtc/cli-client.ts';

function frame(status: number, body: string): string {
  return `${String(status).padEnd(3)} ${String(Buffer.byteLength(body, 'latin1')).padEnd(8)}\n${body}\n`;
}

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

/** A server that runs `onConn` for its one connection; gives a connected client. */
async function pair(onConn: (s: Socket) => void): Promise<CliClient> {
  const server = createServer(onConn);
  servers.push(server);
  await new Promise<void>((r) => server.listen({ host: '127.0.0.1', port: 0 }, () => r()));
  const a = server.address();
  if (a === null || typeof a === 'string') throw new Error('no address');
  const sock = createConnection({ host: '127.0.0.1', port: a.port });
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return new CliClient(sock);
}

describe('authResponse', () => {
  it('hashes challenge, newline, secret, challenge, newline', () => {
    const want = createHash('sha256').update('abc\nsecret\nabc\n').digest('hex');
    expect(authResponse('abc', Buffer.from('secret\n'))).toBe(want);
  });
});

describe('CliClient', () => {
  it('answers the challenge and reads replies split across packets', async () => {
    const secret = Buffer.from('s3cr3t\n');
    const challenge = 'vbinfszckgkdzqsdgjpuuonjahrbkyzi';
    const seen: string[] = [];
    const cli = await pair((s) => {
      s.write(frame(107, `${challenge}\n\nAuthentication required.\n`));
      let buf = '';
      s.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        let nl = buf.indexOf('\n');
        while (nl >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          seen.push(line);
          if (line.startsWith('auth ')) {
            const good = line.slice(5) === authResponse(challenge, secret);
            s.write(good ? frame(200, 'Varnish Cache CLI 1.0') : frame(107, 'again'));
          } else if (line === 'ping') {
            // Sent in two pieces, the head itself split.
            const f = frame(200, 'PONG 1 1.0');
            s.write(f.slice(0, 5));
            setTimeout(() => s.write(f.slice(5)), 20);
          }
          nl = buf.indexOf('\n');
        }
      });
    });
    const banner = await cli.authenticate(async () => secret, 2000);
    expect(banner).toEqual({ status: 200, body: 'Varnish Cache CLI 1.0' });
    expect(await cli.ask('ping', 2000)).toEqual({ status: 200, body: 'PONG 1 1.0' });
    expect(seen[0]).toMatch(/^auth [0-9a-f]{64}$/);
    cli.close();
  });

  it('fails authentication with a wrong secret', async () => {
    const cli = await pair((s) => {
      s.write(frame(107, 'challenge\n'));
      s.on('data', () => s.write(frame(107, 'challenge\n')));
    });
    await expect(cli.authenticate(async () => Buffer.from('wrong'), 2000)).rejects.toThrow(/authentication failed: 107/);
    cli.close();
  });

  it('reports a closed connection, a timeout and a bad head', async () => {
    const closed = await pair((s) => s.end());
    await expect(closed.read(2000)).rejects.toThrow(CliError);
    const silent = await pair(() => {});
    await expect(silent.read(100)).rejects.toThrow(/timeout/);
    silent.close();
    const garbage = await pair((s) => s.write('HTTP/1.1 200 OK\r\n\r\n'));
    await expect(garbage.read(2000)).rejects.toThrow(/bad CLI reply head/);
    garbage.close();
  });
});
