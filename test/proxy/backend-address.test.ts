// Backend addresses: `.host` may carry its port, as Varnish's address parser allows (the
// conformance cases write `.host = "${bad_backend}"`, an `ip:port`).

import { describe, expect, it } from 'vitest';
import { literalAddress, resolveBackendAddress, splitHostPort } from '../../src/proxy/backend/address.ts';

describe('backend addresses', () => {
  it('splits a port off the host in each form Varnish reads', () => {
    expect(splitHostPort('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: '8080' });
    expect(splitHostPort('127.0.0.1 8080')).toEqual({ host: '127.0.0.1', port: '8080' });
    expect(splitHostPort('[::1]:81')).toEqual({ host: '::1', port: '81' });
    expect(splitHostPort('[::1] 81')).toEqual({ host: '::1', port: '81' });
    expect(splitHostPort('[::1]')).toEqual({ host: '::1', port: undefined });
    expect(splitHostPort('::1')).toEqual({ host: '::1', port: undefined });
    expect(splitHostPort('localhost')).toEqual({ host: 'localhost', port: undefined });
  });

  it('lets the port in .host win over .port', async () => {
    expect(literalAddress('b', { host: '127.0.0.1:9', port: '80' })).toEqual({ kind: 'tcp', ip: '127.0.0.1', port: 9, family: 4 });
    expect(await resolveBackendAddress('b', { host: '127.0.0.1 7' })).toEqual({ kind: 'tcp', ip: '127.0.0.1', port: 7, family: 4 });
    expect(literalAddress('b', { host: '127.0.0.1', port: '8081' })).toEqual({ kind: 'tcp', ip: '127.0.0.1', port: 8081, family: 4 });
  });

  it('refuses a port in .host that is no number', async () => {
    await expect(resolveBackendAddress('b', { host: '127.0.0.1:x' })).rejects.toThrow(/port "x"/);
  });
});
