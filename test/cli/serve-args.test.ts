import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/common/args.ts';
import { parseHostPort, parseServeArgs } from '../../src/cli/serve-args.ts';

describe('shellac serve flags', () => {
  it('defaults to :6081 and a 256MB malloc store', () => {
    const c = parseServeArgs(['-f', 'x.vcl']);
    expect(c.listen).toEqual([{ name: 'a0', host: '', port: 6081 }]);
    expect(c.storage).toEqual({ name: 's0', bytes: 256 * 1024 * 1024 });
    expect(c.storageNames).toEqual(['s0', 'Transient']);
    expect(c.vclFile).toBe('x.vcl');
    expect(c.debug).toBe(false);
  });

  it('reads varnishtest-style flags: -d, glued -s values, several stores, -t, unix sockets', () => {
    const c = parseServeArgs(['-d', '-ss1=default,2m', '-sTransient=default', '-t', '300', '-a', '/tmp/v1.sock', '-b', '/tmp/s1.sock', '-Wpoll']);
    expect(c.debug).toBe(true);
    expect(c.storage).toEqual({ name: 's1', bytes: 2 * 1024 * 1024 });
    expect(c.storageNames).toEqual(['s1', 'Transient']);
    expect(c.params).toEqual([['default_ttl', '300']]);
    expect(c.listen).toEqual([{ name: 'a0', host: '', port: 0, path: '/tmp/v1.sock' }]);
    expect(c.backend).toEqual({ host: '', port: 0, path: '/tmp/s1.sock' });
  });

  it('reads several storages in order: unnamed ones s0, s1..., Transient unbounded unless sized', () => {
    const c = parseServeArgs(['-b', 'x:80', '-s', 'malloc,1m', '-s', 'big=malloc,2m', '-s', 'default,3m', '-s', 'Transient=malloc']);
    expect(c.storages).toEqual([
      { name: 's0', bytes: 1024 * 1024 },
      { name: 'big', bytes: 2 * 1024 * 1024 },
      { name: 's1', bytes: 3 * 1024 * 1024 },
      { name: 'Transient', bytes: Number.POSITIVE_INFINITY },
    ]);
    expect(parseServeArgs(['-b', 'x:80', '-s', 'Transient=malloc,1m']).storages).toEqual([
      { name: 's0', bytes: 256 * 1024 * 1024 },
      { name: 'Transient', bytes: 1024 * 1024 },
    ]);
    expect(() => parseServeArgs(['-b', 'x:80', '-s', 'a=malloc,1m', '-s', 'a=malloc,2m'])).toThrow("storage name 'a' given twice");
  });

  it('reads file storages: a path and a size, a directory getting a file of the storage name', () => {
    const c = parseServeArgs(['-b', 'x:80', '-s', 'file,/var/tmp/cache.bin,2g', '-s', 'disk=file,/tmp,64m']);
    expect(c.storages).toEqual([
      { name: 's0', kind: 'file', path: '/var/tmp/cache.bin', bytes: 2 * 1024 ** 3 },
      { name: 'disk', kind: 'file', path: '/tmp/shellac_storage.disk', bytes: 64 * 1024 ** 2 },
    ]);
  });

  it('reads several listeners, named or not, and IPv6 ones', () => {
    const c = parseServeArgs(['-a', '127.0.0.1:8080', '-a', 'admin=[::1]:8081', '-a', ':0,HTTP', '-b', 'localhost:9000']);
    expect(c.listen).toEqual([
      { name: 'a0', host: '127.0.0.1', port: 8080 },
      { name: 'admin', host: '::1', port: 8081 },
      { name: 'a2', host: '', port: 0 },
    ]);
    expect(c.backend).toEqual({ host: 'localhost', port: 9000 });
  });

  it('reads storage sizes, params, vcl_path and the admin flags', () => {
    const c = parseServeArgs(['-b', '127.0.0.1', '-s', 'mem=malloc,64m', '-p', 'default_ttl=10', '-p', 'max_restarts=2', '-I', 'a', '-I', 'b', '-T', '127.0.0.1:6082', '-S', 'secret', '-n', '/tmp/w', '-F']);
    expect(c.storage).toEqual({ name: 'mem', bytes: 64 * 1024 * 1024 });
    expect(c.backend).toEqual({ host: '127.0.0.1', port: 80 });
    expect(c.params).toEqual([['default_ttl', '10'], ['max_restarts', '2']]);
    expect(c.vclPath).toEqual(['a', 'b']);
    expect(c.admin).toEqual({ host: '127.0.0.1', port: 6082 });
    expect(c.secretFile).toBe('secret');
    expect(c.workdir).toBe('/tmp/w');
  });

  it.each([
    [['-b', 'a:1', '-f', 'x.vcl'], 'only one of -b or -f can be specified'],
    [['-a', 'nope'], '-a nope: a port is needed (host:port)'],
    [['-a', ':99999'], "-a :99999: bad port '99999'"],
    [['-a', ':80,HTTP2'], "-a :80,HTTP2: protocol 'HTTP2' is not supported (HTTP or PROXY)"],
    [['-d', '-s', 'file,/tmp/x'], '-s file,/tmp/x: no size specified (file,PATH,SIZE)'],
    [['-d', '-s', 'file'], '-s file: a file storage needs a path (file,PATH,SIZE)'],
    [['-d', '-s', 'Transient=file,/tmp/x,1m'], '-s Transient=file,/tmp/x,1m: Transient must be malloc'],
    [['-d', '-s', 'umem,1m'], '-s umem,1m: unknown storage method "umem" (malloc or file)'],
    [['-s', 'malloc,lots'], "-s malloc,lots: bad size 'lots' (e.g. 256m, 1g)"],
    [['-p', 'novalue'], '-p novalue: expected name=value'],
    [['-x'], 'unknown option -x'],
    [['stray'], "unexpected argument 'stray'"],
  ])('refuses %j', (argv, message) => {
    expect(() => parseServeArgs(argv)).toThrow(new UsageError(message));
  });

  it('takes a PROXY listener, TCP or Unix socket', () => {
    const c = parseServeArgs(['-a', 'p=127.0.0.1:8443,PROXY', '-a', '/tmp/p.sock,PROXY', '-b', 'o:80']);
    expect(c.listen).toEqual([
      { name: 'p', host: '127.0.0.1', port: 8443, proxy: true },
      { name: 'a1', host: '', port: 0, path: '/tmp/p.sock', proxy: true },
    ]);
  });

  it('parses host:port forms', () => {
    expect(parseHostPort('[::1]:80', '-T')).toEqual({ host: '::1', port: 80 });
    expect(parseHostPort('::1', '-b', 80)).toEqual({ host: '::1', port: 80 });
  });
});
