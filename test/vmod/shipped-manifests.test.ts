import { describe, expect, it } from 'vitest';
import type { VmodManifest } from '../../src/vmod/manifest.ts';
import { loadManifest } from '../../src/vmod/registry.ts';

const SHIPPED = ['std', 'directors', 'cookie', 'blob', 'purge'];

function load(name: string): VmodManifest {
  const result = loadManifest(name);
  if ('error' in result) throw new Error(result.error);
  return result.manifest;
}

/** A signature written back the way the manual shows it, to compare whole signatures at once. */
function show(m: VmodManifest, path: string): string {
  const [a, b] = path.split('.');
  const fn = b === undefined ? m.functions.get(a) : m.objects.get(a)?.methods.get(b);
  if (!fn) throw new Error(`${m.name}.${path} is missing`);
  const args = fn.args.map((arg) => {
    const type = arg.enumValues ? `ENUM {${arg.enumValues.join(', ')}}` : arg.type;
    const text = [type, arg.name].filter(Boolean).join(' ') + (arg.default !== undefined ? `=${arg.default}` : '');
    return arg.optional ? `[${text}]` : text;
  });
  return `${fn.ret} ${fn.name}(${args.join(', ')})`;
}

describe('the shipped manifests', () => {
  it.each(SHIPPED)('%s parses without error', (name) => {
    expect(loadManifest(name)).toHaveProperty('manifest');
  });

  it('declare as many entries as Varnish 7.1', () => {
    const counts = SHIPPED.map((n) => {
      const m = load(n);
      return [n, m.functions.size, m.objects.size, m.aliases.size];
    });
    expect(counts).toEqual([
      ['std', 35, 0, 0],
      ['directors', 1, 6, 0],
      ['cookie', 13, 0, 1],
      ['blob', 7, 1, 0],
      ['purge', 2, 0, 0],
    ]);
  });

  it('have Varnish 7.1 signatures', () => {
    const std = load('std');
    const directors = load('directors');
    expect(show(std, 'duration')).toBe('DURATION duration([STRING s], [DURATION fallback], [REAL real], [INT integer])');
    expect(show(std, 'ip')).toBe('IP ip(STRING s, [IP fallback], BOOL resolve=1, [STRING p])');
    expect(show(std, 'collect')).toBe('VOID collect(HEADER hdr, STRING sep=", ")');
    expect(show(std, 'fnmatch')).toBe(
      'BOOL fnmatch(STRING pattern, STRING subject, BOOL pathname=1, BOOL noescape=0, BOOL period=0)',
    );
    expect(show(std, 'fileread')).toBe('STRING fileread(PRIV_CALL, STRING)');
    expect(show(std, 'log')).toBe('VOID log(STRANDS s)');
    expect(show(std, 'real2integer')).toBe('INT real2integer(REAL r, INT fallback)');
    expect(show(directors, 'shard.backend')).toBe(
      'BACKEND backend([ENUM {HASH, URL, KEY, BLOB} by=HASH], [INT key], [BLOB key_blob], [INT alt=0], [REAL warmup=-1], [BOOL rampup=1], [ENUM {CHOSEN, IGNORE, ALL} healthy=CHOSEN], [BLOB param], [ENUM {NOW, LAZY} resolve])',
    );
    expect(show(directors, 'shard.remove_backend')).toBe('BOOL remove_backend([BACKEND backend=0], [STRING ident=0])');
    expect(show(directors, 'hash.add_backend')).toBe('VOID add_backend(BACKEND, REAL weight=1.0)');
    expect(show(directors, 'lookup')).toBe('BACKEND lookup(STRING)');
    expect(directors.objects.get('fallback')!.args).toEqual([{ type: 'BOOL', name: 'sticky', default: '0', optional: false }]);
    expect(show(load('cookie'), 'get')).toBe('STRING get(PRIV_TASK, STRING cookiename)');
    expect(show(load('blob'), 'encode')).toBe(
      'STRING encode(ENUM {IDENTITY, BASE64, BASE64URL, BASE64URLNOPAD, BASE64CF, HEX, URL} encoding=IDENTITY, ENUM {LOWER, UPPER, DEFAULT} case=DEFAULT, BLOB blob)',
    );
    expect(show(load('purge'), 'soft')).toBe('INT soft(DURATION ttl=0, DURATION grace=-1, DURATION keep=-1)');
  });

  it('keep the cookie alias of Varnish 7.1', () => {
    expect([...load('cookie').aliases]).toEqual([['format_rfc1123', 'format_date']]);
  });

  it('restrict nothing at compile time, as Varnish 7.1 does', () => {
    // Varnish 7.1's manifests have no $Restrict: `std.ban()` in vcl_init and
    // `std.late_100_continue()` in vcl_deliver compile there, so they must compile here.
    for (const name of SHIPPED) {
      const m = load(name);
      const entries = [...m.functions.values(), ...[...m.objects.values()].flatMap((o) => [...o.methods.values()])];
      expect(entries.filter((e) => e.restrict !== undefined).map((e) => e.name)).toEqual([]);
    }
    expect(load('std').functions.get('ban')!.restrict).toBeUndefined();
  });

  it('carry their own prose', () => {
    const std = load('std');
    expect(std.description).toBe('Shellac standard functions');
    for (const fn of std.functions.values()) expect(fn.doc, fn.name).not.toBe('');
  });
});
