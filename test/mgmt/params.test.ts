import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { PARAM_TABLE } from '../../src/common/param-table.ts';
import { paramJson, renderParamDocs, showLong, showShort } from '../../src/mgmt/param-show.ts';
import { formatBytes, ParamError, Params, paramNames, parseBytes, parseSeconds } from '../../src/common/params.ts';

function setError(p: Params, name: string, value: string): string {
  try {
    p.set(name, value);
  } catch (e) {
    expect(e).toBeInstanceOf(ParamError);
    return (e as Error).message;
  }
  throw new Error(`param.set ${name} ${value} was accepted`);
}

describe('the parameter table', () => {
  it('has the parameters the issue lists, with Varnish 7.1 defaults', () => {
    const p = new Params();
    expect(p.values.default_ttl).toBe(120);
    expect(p.values.default_grace).toBe(10);
    expect(p.values.default_keep).toBe(0);
    expect(p.values.max_restarts).toBe(4);
    expect(p.values.max_retries).toBe(4);
    expect(p.values.vcl_cooldown).toBe(600);
    expect(p.values.connect_timeout).toBe(3.5);
    expect(p.values.first_byte_timeout).toBe(60);
    expect(p.values.between_bytes_timeout).toBe(60);
    expect(p.values.backend_idle_timeout).toBe(60);
    expect(p.values.timeout_idle).toBe(5);
    expect(p.values.send_timeout).toBe(600);
    expect(p.values.pipe_timeout).toBe(60);
    expect(p.values.http_req_size).toBe(32 * 1024);
    expect(p.values.http_req_hdr_len).toBe(8 * 1024);
    expect(p.values.http_resp_size).toBe(32 * 1024);
    expect(p.values.http_resp_hdr_len).toBe(8 * 1024);
    expect(p.values.http_max_hdr).toBe(64);
    expect(p.values.nuke_limit).toBe(50);
    expect(p.values.ban_lurker_age).toBe(60);
    expect(p.values.ban_lurker_sleep).toBe(0.01);
    expect(p.values.shortlived).toBe(10);
    expect(p.values.vcl_path).toEqual([]);
    expect(p.values.vmod_path).toEqual([]);
    expect(p.values.gzip_level).toBe(6);
    expect(p.values.ban_dups).toBe(true);
    expect([...p.values.feature].sort()).toEqual(['esi_parallel_includes', 'validate_headers']);
    expect(p.values.debug.size).toBe(0);
  });

  it('declares each name once, with a default its own parser accepts and docs', () => {
    const names = PARAM_TABLE.map((d) => d.name);
    expect(new Set(names).size).toBe(names.length);
    for (const d of PARAM_TABLE) {
      expect(d.docs.length, d.name).toBeGreaterThan(10);
      expect(() => new Params([[d.name, d.default]]), d.name).not.toThrow();
    }
  });

  it('keeps docs/parameters.md as the table generates it', () => {
    const file = readFileSync(new URL('../../docs/parameters.md', import.meta.url), 'utf8');
    expect(file).toBe(renderParamDocs());
  });
});

describe('reading values', () => {
  it('reads durations with units', () => {
    expect(parseSeconds('10')).toBe(10);
    expect(parseSeconds('1.5')).toBe(1.5);
    expect(parseSeconds('1e3')).toBe(1000);
    expect(parseSeconds('10s')).toBe(10);
    expect(parseSeconds('500ms')).toBe(0.5);
    expect(parseSeconds('2m')).toBe(120);
    expect(parseSeconds('1h')).toBe(3600);
    expect(parseSeconds('1d')).toBe(86400);
    expect(parseSeconds('1w')).toBe(604800);
    expect(parseSeconds('abc')).toBeUndefined();
    expect(parseSeconds('')).toBeUndefined();
    expect(parseSeconds('10 parsecs')).toBeUndefined();
  });

  it('reads and prints sizes as varnishd does', () => {
    expect(parseBytes('512')).toBe(512);
    expect(parseBytes('512b')).toBe(512);
    expect(parseBytes('8k')).toBe(8192);
    expect(parseBytes('0.25k')).toBe(256);
    expect(parseBytes('1M')).toBe(1048576);
    expect(parseBytes('2G')).toBe(2 * 1024 ** 3);
    expect(parseBytes('1kB')).toBe(1024);
    expect(parseBytes('1x')).toBeUndefined();
    expect(formatBytes(32768)).toBe('32k');
    expect(formatBytes(256)).toBe('0.25k');
    expect(formatBytes(768)).toBe('0.75k');
    expect(formatBytes(65535)).toBe('65535b');
    expect(formatBytes(2147483647)).toBe('2147483647b');
    expect(formatBytes(1048576)).toBe('1M');
    expect(formatBytes(10 * 1048576)).toBe('10M');
    expect(formatBytes(268435456)).toBe('0.25G');
    expect(formatBytes(0)).toBe('0b');
  });
});

describe('param.set validation', () => {
  it('refuses bad values with varnishd-like messages, naming the attempt', () => {
    const p = new Params();
    expect(setError(p, 'default_ttl', 'abc')).toBe("Invalid number (abc)\n\n(attempting to set param 'default_ttl' to 'abc')");
    expect(setError(p, 'default_ttl', '-5')).toBe("Must be greater or equal to 0.000\n\n(attempting to set param 'default_ttl' to '-5')");
    expect(setError(p, 'default_ttl', '')).toBe("Invalid number ()\n\n(attempting to set param 'default_ttl' to '')");
    expect(setError(p, 'max_restarts', 'abc')).toMatch(/^Not a number \(abc\)/);
    expect(setError(p, 'max_restarts', '1.5')).toMatch(/^Not a number \(1\.5\)/);
    expect(setError(p, 'gzip_level', '10')).toMatch(/^Must be no more than 9\n/);
    expect(setError(p, 'http_max_hdr', '10')).toMatch(/^Must be at least 32\n/);
    // varnishtest runs with thread_pool_min=10 and cases set thread_pool_max as low (c00002).
    expect(new Params([['thread_pool_max', '10']]).values.thread_pool_max).toBe(10);
    expect(setError(p, 'http_req_size', '100')).toMatch(/^Must be at least 0\.25k\n/);
    expect(setError(p, 'http_req_size', '1x')).toMatch(/^Invalid size \(1x\)/);
    expect(setError(p, 'vcl_cooldown', '0.5')).toMatch(/^Must be greater or equal to 1\.000\n/);
    expect(setError(p, 'tcp_keepalive_time', '3h')).toMatch(/^Must be less than or equal to 7200\.000\n/);
    expect(setError(p, 'ban_dups', 'maybe')).toMatch(/^use "on" or "off"\n/);
    expect(setError(p, 'feature', '+nope')).toMatch(/^Unknown feature bit \(\+nope\)\n/);
    expect(setError(p, 'feature', 'http2')).toMatch(/^Missing '\+' or '-' \(http2\)\n/);
    expect(setError(p, 'nope', '1')).toBe('Unknown parameter "nope".');
    // Nothing refused was applied.
    expect(p.values.default_ttl).toBe(120);
    expect(p.values.gzip_level).toBe(6);
  });

  it('sets typed values and tells listeners', () => {
    const p = new Params();
    const seen: string[] = [];
    const off = p.onChange((name, params) => seen.push(`${name}=${params.text(name)}`));
    p.set('default_ttl', '2m');
    p.set('http_req_size', '64k');
    p.set('ban_dups', 'off');
    p.set('vcl_path', '/a:/b');
    p.set('feature', '+http2,-validate_headers,-esi_parallel_includes');
    p.set('debug', '+syncvsl');
    p.set('debug', '+waitinglist');
    expect(p.values.default_ttl).toBe(120);
    expect(p.values.http_req_size).toBe(65536);
    expect(p.values.ban_dups).toBe(false);
    expect(p.values.vcl_path).toEqual(['/a', '/b']);
    expect([...p.values.feature]).toEqual(['http2']);
    expect(p.text('debug')).toBe('+waitinglist,+syncvsl');
    p.set('debug', 'none');
    expect(p.text('debug')).toBe('none');
    off();
    p.set('max_restarts', '7');
    expect(seen).toEqual([
      'default_ttl=120.000',
      'http_req_size=64k',
      'ban_dups=off',
      'vcl_path=/a:/b',
      'feature=+http2',
      'debug=+syncvsl',
      'debug=+waitinglist,+syncvsl',
      'debug=none',
    ]);
  });

  it('keeps the values object: readers holding it see every change', () => {
    const p = new Params();
    const values = p.values;
    p.set('max_restarts', '9');
    expect(values.max_restarts).toBe(9);
    p.reset('max_restarts');
    expect(values.max_restarts).toBe(4);
    expect(p.isDefault('max_restarts')).toBe(true);
  });

  it('applies -p overrides in order and refuses a bad one', () => {
    const p = new Params([
      ['default_ttl', '10'],
      ['default_ttl', '20'],
      ['feature', '+http2'],
    ]);
    expect(p.values.default_ttl).toBe(20);
    expect(p.text('feature')).toBe('+http2,+esi_parallel_includes,+validate_headers');
    expect(() => new Params([['first_byte_timeout', 'soon']])).toThrow(ParamError);
  });

  it('treats vsl_mask as a mask: -Tag masks, +Tag unmasks, any tag name', () => {
    const p = new Params();
    expect(p.text('vsl_mask')).toContain('-Hash');
    p.set('vsl_mask', '+Hash,-ReqURL');
    expect(p.text('vsl_mask')).not.toContain('-Hash');
    expect(p.text('vsl_mask')).toMatch(/-ReqURL$/);
  });
});

describe('param.show layouts', () => {
  it('prints one line each: name in 30 columns, value, unit, (default)', () => {
    const p = new Params([['http_req_size', '64k']]);
    expect(showShort(p, ['default_ttl', 'http_req_size', 'max_restarts', 'vcl_path'])).toBe(
      [
        'default_ttl                   120.000 [seconds] (default)',
        'http_req_size                 64k [bytes]',
        'max_restarts                  4 [restarts] (default)',
        'vcl_path                       (default)',
        '',
      ].join('\n'),
    );
  });

  it('prints the long form with default, bounds and wrapped docs', () => {
    const p = new Params([['default_ttl', '60']]);
    const text = showLong(p, ['default_ttl', 'gzip_level']);
    const [ttl, gzip] = text.split('\n\ngzip_level\n');
    expect(ttl.split('\n').slice(0, 5)).toEqual(['default_ttl', '        Value is: 60.000 [seconds]', '        Default is: 120.000', '        Minimum is: 0.000', '']);
    for (const line of ttl.split('\n').slice(5)) {
      if (line) expect(line).toMatch(/^ {8}\S/);
      expect(line.length).toBeLessThanOrEqual(72);
    }
    expect(gzip.split('\n').slice(0, 3)).toEqual(['        Value is: 6 (default)', '        Minimum is: 0', '        Maximum is: 9']);
    expect(text.endsWith('\n')).toBe(true);
  });

  it('lists the switches of a bits parameter and marks inert parameters', () => {
    const p = new Params();
    expect(showLong(p, ['feature'])).toMatch(/\n {11}http2 +Speak HTTP\/2/);
    expect(showLong(p, ['thread_pools'])).toContain('Shellac accepts this parameter and ignores it.');
  });

  it('gives JSON as param.show -j does', () => {
    const p = new Params();
    expect(paramJson(p, 'http_req_size')).toMatchObject({
      name: 'http_req_size',
      implemented: true,
      value: 32768,
      units: 'bytes',
      default: '32k',
      minimum: '0.25k',
      flags: [],
    });
    expect(paramJson(p, 'ban_dups')).toMatchObject({ value: true, units: 'bool', default: 'on' });
    expect(paramJson(p, 'vcl_path')).toMatchObject({ value: '', default: '' });
    expect(paramJson(p, 'thread_pools')).toMatchObject({ implemented: false, flags: ['inert'] });
  });

  it('lists every parameter, sorted', () => {
    const names = paramNames();
    expect(names).toEqual([...names].sort());
    expect(names).toContain('default_ttl');
    expect(names.length).toBe(PARAM_TABLE.length);
  });
});
