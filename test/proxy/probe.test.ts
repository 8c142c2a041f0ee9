// Health probes with short intervals against real loopback origins: sick and healthy turns
// as the window fills, the request sent, timeouts, refused connections, stopping with the VCL's
// temperature, and the admin override.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backendFrom, cleanup, closedPort, httpOrigin, rawOrigin, recordingLogger, sleep, until } from './backend-helpers.ts';

afterEach(cleanup);

describe('probe transitions', () => {
  it('turns healthy, sick and healthy again as the window fills, logging each change', async () => {
    let status = 200;
    const origin = await httpOrigin((_req, res) => {
      res.writeHead(status);
      res.end('health');
    });
    const logger = recordingLogger();
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .probe = p;`,
      { logger },
      'probe p { .url = "/health"; .interval = 40ms; .timeout = 500ms; .window = 3; .threshold = 2; }',
    );
    // .initial defaults to threshold - 1: one good result assumed, so it starts sick.
    expect(be.healthy(null)).toBe(false);
    expect(be.describe()).toMatchObject({ admin: 'probe', probe: '1/3', health: 'sick' });
    expect((await be.fetch({ method: 'GET', url: '/', headers: [] })).ok).toBe(false);

    const born = be.changed;
    be.start();
    await until(() => be.healthy(null), 3000, 'healthy');
    expect(be.changed).toBeGreaterThanOrEqual(born);
    expect(origin.seen[0].url).toBe('/health');
    expect(origin.seen[0].headers).toContain('Connection');
    status = 503;
    await until(() => !be.healthy(null), 3000, 'sick');
    expect(be.describe().health).toBe('sick');
    status = 200;
    await until(() => be.healthy(null), 3000, 'healthy again');
    be.stop();

    const events = logger.records.map((r) => `${r.level} ${r.obj.event}`);
    expect(events).toEqual(['warn Went sick', 'info Went healthy', 'warn Went sick', 'info Went healthy']);
    const healthy = logger.records[1].obj;
    expect(healthy).toMatchObject({ backend: 'test.b', bits: '4---X-RH', threshold: 2, window: 3, response: 'HTTP/1.1 200 OK' });
    expect(logger.records[2].obj.response).toBe('HTTP/1.1 503 Service Unavailable');
    expect(be.counters.happy & 1).toBe(1);
  });

  it('starts healthy when .initial reaches the threshold, before any probe ran', async () => {
    const port = await closedPort();
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${port}"; .probe = { .url = "/"; .interval = 1s; .window = 4; .threshold = 2; .initial = 2; }`,
    );
    expect(be.healthy(null)).toBe(true);
    expect(be.describe()).toMatchObject({ probe: '2/4', health: 'healthy' });
    expect(be.counters.happy).toBe(3);
  });

  it('stays sick against a refused port, with no connection bit set', async () => {
    const port = await closedPort();
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${port}"; .probe = { .url = "/"; .interval = 30ms; .timeout = 200ms; .window = 4; .threshold = 1; .initial = 1; }`,
    );
    expect(be.healthy(null)).toBe(true);
    be.start();
    await until(() => !be.healthy(null), 3000, 'sick');
    await sleep(100);
    const status = be.describe().probeStatus!;
    expect(status.good).toBe(0);
    expect(status.bitmaps.goodIpv4).not.toContain('4');
    expect(status.bitmaps.goodXmit).not.toContain('X');
    expect(status.message).toMatch(/Connect error/);
    expect(be.healthy(null)).toBe(false);
  });

  it('a probe whose answer does not come within .timeout fails', async () => {
    const origin = await rawOrigin(() => {});
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .probe = { .url = "/"; .interval = 50ms; .timeout = 100ms; .window = 2; .threshold = 1; .initial = 1; }`,
    );
    be.start();
    await until(() => !be.healthy(null), 3000, 'sick');
    const status = be.describe().probeStatus!;
    expect(status.message).toBe('Timed out');
    expect(status.bitmaps.goodXmit.endsWith('X')).toBe(true);
    expect(status.bitmaps.errRecv.endsWith('r')).toBe(true);
  });
});

describe('the probe request', () => {
  it('.request sends its lines, each ended by CRLF, then a blank line; .expected_response is checked', async () => {
    const heads: string[] = [];
    const origin = await rawOrigin((socket, head) => {
      heads.push(head);
      socket.end('HTTP/1.1 204 No Content\r\n\r\n');
    });
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .probe = { .request = "GET /r HTTP/1.1" "Host: probe.example" "Connection: close"; .expected_response = 204; .interval = 30ms; .window = 1; .threshold = 1; .initial = 0; }`,
    );
    expect(be.healthy(null)).toBe(false);
    be.start();
    await until(() => be.healthy(null), 3000, 'healthy');
    expect(heads[0]).toBe('GET /r HTTP/1.1\r\nHost: probe.example\r\nConnection: close\r\n\r\n');
  });

  it('a status other than .expected_response is a failure', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok')); // 200
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .probe = { .url = "/"; .expected_response = 204; .interval = 30ms; .window = 2; .threshold = 1; .initial = 1; }`,
    );
    be.start();
    await until(() => origin.seen.length >= 2, 3000, 'two probes');
    await until(() => !be.healthy(null), 3000, 'sick');
    expect(be.describe().probeStatus!.message).toBe('HTTP/1.1 200 OK');
  });

  it('.url probes carry .host_header', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(
      `.host = "127.0.0.1"; .port = "${origin.port}"; .host_header = "h.example"; .probe = { .url = "/ping"; .interval = 30ms; }`,
    );
    be.start();
    await until(() => origin.seen.length >= 1, 3000, 'a probe');
    be.stop();
    const headers = origin.seen[0].headers;
    expect(headers[headers.findIndex((h) => h.toLowerCase() === 'host') + 1]).toBe('h.example');
  });

  it('probes a Unix socket backend', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'shellac-probe-')), 'o.sock');
    const origin = await httpOrigin((_req, res) => res.end('ok'), path);
    const be = await backendFrom(`.path = "${path}"; .probe = { .url = "/"; .interval = 30ms; .window = 2; .threshold = 2; }`);
    be.start();
    await until(() => be.healthy(null), 3000, 'healthy');
    expect(be.describe().probeStatus!.bitmaps.goodUnix.endsWith('U')).toBe(true);
    // Without .host_header a .path backend's Host is 0.0.0.0, as in Varnish.
    expect(origin.seen[0].headers).toContain('0.0.0.0');
  });
});

describe('temperature and admin state', () => {
  it('stop() ends probing and start() resumes it', async () => {
    const origin = await httpOrigin((_req, res) => res.end('ok'));
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${origin.port}"; .probe = { .url = "/"; .interval = 30ms; }`);
    expect(origin.seen).toHaveLength(0);
    be.start();
    await until(() => origin.seen.length >= 3, 3000, 'three probes');
    be.stop();
    await sleep(60); // one probe may still be on its way
    const stopped = origin.seen.length;
    await sleep(200);
    expect(origin.seen.length).toBe(stopped);
    be.start();
    await until(() => origin.seen.length > stopped, 3000, 'probing again');
  });

  it('set_health overrides the probe both ways; auto follows it again', async () => {
    const port = await closedPort();
    const be = await backendFrom(`.host = "127.0.0.1"; .port = "${port}"; .probe = { .url = "/"; .interval = 1s; }`);
    expect(be.healthy(null)).toBe(false);
    be.setHealth('healthy');
    expect(be.healthy(null)).toBe(true);
    expect(be.describe()).toMatchObject({ admin: 'healthy', health: 'sick', probe: '2/8' });
    be.setHealth('sick');
    expect(be.healthy(null)).toBe(false);
    be.setHealth('auto');
    expect(be.describe().admin).toBe('probe');
    expect(be.healthy(null)).toBe(false);
  });
});
