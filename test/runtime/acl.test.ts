import { describe, expect, it } from 'vitest';
import { type AclEntry, type AclPrefix, checkAclEntry, compileAcl, findAclConflicts } from '../../src/common/acl.ts';
import { parseIp } from '../../src/common/ip.ts';

const allow = (address: string, mask?: number): AclEntry => ({ negated: false, address, mask });
const deny = (address: string, mask?: number): AclEntry => ({ negated: true, address, mask });
const ip = (text: string) => parseIp(text)!;

describe('compileAcl', () => {
  it('matches exact addresses and nothing else', () => {
    const acl = compileAcl([allow('192.0.2.1'), allow('2001:db8::1')]);
    expect(acl.match(ip('192.0.2.1'))).toBe(true);
    expect(acl.match(ip('192.0.2.2'))).toBe(false);
    expect(acl.match(ip('2001:db8::1'))).toBe(true);
    expect(acl.match(ip('2001:db8::2'))).toBe(false);
  });

  it('lets the longest matching prefix decide, whatever the entry order', () => {
    // Varnish 7.1: 10.1.2.3 true, 10.1.3.3 false, 10.2.3.3 true.
    const entries = [allow('10.0.0.0', 8), deny('10.1.0.0', 16), allow('10.1.2.0', 24)];
    for (const order of [entries, [...entries].reverse()]) {
      const acl = compileAcl(order);
      expect(acl.match(ip('10.1.2.3'))).toBe(true);
      expect(acl.match(ip('10.1.3.3'))).toBe(false);
      expect(acl.match(ip('10.2.3.3'))).toBe(true);
      expect(acl.match(ip('11.0.0.0'))).toBe(false);
    }
  });

  it('is false when no entry covers the address, negated entries included', () => {
    const acl = compileAcl([deny('192.0.2.23')]);
    expect(acl.match(ip('192.0.2.23'))).toBe(false);
    expect(acl.match(ip('192.0.2.24'))).toBe(false);
  });

  it('keeps the families apart, mapped addresses included', () => {
    const v4 = compileAcl([allow('1.2.3.4')]);
    const v6 = compileAcl([allow('::ffff:1.2.3.4')]);
    expect(v4.match(ip('::ffff:1.2.3.4'))).toBe(false);
    expect(v6.match(ip('1.2.3.4'))).toBe(false);
    expect(v6.match(ip('::ffff:1.2.3.4'))).toBe(true);
    expect(compileAcl([allow('0.0.0.0', 0)]).match(ip('::1'))).toBe(false);
    expect(compileAcl([allow('::', 0)]).match(ip('1.1.1.1'))).toBe(false);
  });

  it('matches everything of a family with a /0 entry', () => {
    const acl = compileAcl([allow('0.0.0.0', 0), deny('192.0.2.0', 24)]);
    expect(acl.match(ip('1.1.1.1'))).toBe(true);
    expect(acl.match(ip('192.0.2.200'))).toBe(false);
  });

  it('clears host bits of entries given with them', () => {
    const acl = compileAcl([allow('192.0.2.77', 24)]);
    expect(acl.match(ip('192.0.2.1'))).toBe(true);
    expect(acl.match(ip('192.0.3.1'))).toBe(false);
  });

  it('handles masks that end inside a byte', () => {
    const acl = compileAcl([allow('192.0.2.128', 25), allow('2001:db8::', 33)]);
    expect(acl.match(ip('192.0.2.129'))).toBe(true);
    expect(acl.match(ip('192.0.2.127'))).toBe(false);
    expect(acl.match(ip('2001:db8:7fff::1'))).toBe(true);
    expect(acl.match(ip('2001:db8:8000::1'))).toBe(false);
  });

  it('accepts the same entry twice', () => {
    expect(compileAcl([allow('1.2.3.4'), allow('1.2.3.4', 32)]).match(ip('1.2.3.4'))).toBe(true);
  });

  it('refuses conflicting and malformed entries', () => {
    expect(() => compileAcl([allow('1.2.3.0', 24), deny('1.2.3.0', 24)])).toThrow(
      'conflicting ACL entries #0 and #1',
    );
    expect(() => compileAcl([allow('localhost')])).toThrow(
      'bad ACL entry "localhost": Not an IP address: localhost',
    );
  });

  it('agrees with a linear scan on a large random ACL', () => {
    const rand = lcg(42);
    const entries: AclEntry[] = [];
    const seen = new Set<string>();
    while (entries.length < 1000) {
      const mask = 8 + Math.floor(rand() * 25);
      const addr = `10.${Math.floor(rand() * 4)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`;
      const key = checkAclEntry(addr, mask, false).normalized!.text;
      if (seen.has(key)) continue;
      seen.add(key);
      entries.push({ negated: rand() < 0.3, address: addr, mask });
    }
    const acl = compileAcl(entries);
    const prefixes = entries.map((e) => ({ negated: e.negated, ...checkAclEntry(e.address, e.mask, false).normalized! }));
    for (let i = 0; i < 2000; i++) {
      const probe = ip(`10.${Math.floor(rand() * 4)}.${Math.floor(rand() * 256)}.${Math.floor(rand() * 256)}`);
      expect(acl.match(probe)).toBe(linearMatch(prefixes, probe.bytes));
    }
  });

  it('matches a 1,000-entry ACL in well under a microsecond', () => {
    const entries: AclEntry[] = [];
    for (let i = 0; i < 500; i++) entries.push(allow(`10.${i >> 8}.${i & 255}.0`, 24));
    for (let i = 0; i < 500; i++) entries.push(deny(`2001:db8:${i.toString(16)}::`, 48));
    const acl = compileAcl(entries);
    const probes = [ip('10.1.200.7'), ip('172.16.0.1'), ip('2001:db8:1f3::9'), ip('2001:db9::1')];
    const rounds = 200_000;
    let hits = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < rounds; i++) if (acl.match(probes[i & 3])) hits++;
    const nsPerMatch = Number(process.hrtime.bigint() - start) / rounds;
    expect(hits).toBe(rounds / 4);
    expect(nsPerMatch).toBeLessThan(500);
  });
});

describe('checkAclEntry', () => {
  it('normalizes good entries', () => {
    expect(checkAclEntry('192.0.2.0', 24).normalized?.text).toBe('192.0.2.0/24');
    expect(checkAclEntry('192.0.2.1').normalized?.text).toBe('192.0.2.1/32');
    expect(checkAclEntry('2001:db8::1').normalized?.text).toBe('2001:db8::1/128');
    expect(checkAclEntry('10.1', 8, false).normalized?.text).toBe('10.0.0.0/8');
    expect(checkAclEntry('1.2.3.4', 0, false).normalized?.text).toBe('0.0.0.0/0');
  });

  it('reports host bits as Varnish does unless the ACL is -pedantic', () => {
    expect(checkAclEntry('1.2.3.4', 24)).toEqual({
      error: 'Non-zero bits in masked part, (maybe use 1.2.3.0/24 ?)',
      at: 'address',
    });
    expect(checkAclEntry('2001:db8::1', 32).error).toBe('Non-zero bits in masked part, (maybe use 2001:db8::/32 ?)');
    expect(checkAclEntry('::ffff:1.2.3.4', 100).error).toBe(
      'Non-zero bits in masked part, (maybe use 0.0.0.0/100 ?)',
    );
    expect(checkAclEntry('1:0:0:2:0:0:0:3', 100).error).toBe(
      'Non-zero bits in masked part, (maybe use 1:0:0:2::/100 ?)',
    );
    expect(checkAclEntry('10.1', 8).error).toBe('Non-zero bits in masked part, (maybe use 10.0.0.0/8 ?)');
    const lax = checkAclEntry('1.2.3.4', 24, false);
    expect(lax.error).toBeUndefined();
    expect(lax.normalized).toMatchObject({ family: 4, mask: 24, text: '1.2.3.0/24' });
    expect([...lax.normalized!.bytes]).toEqual([1, 2, 3, 0]);
  });

  it('reports masks wider than the address', () => {
    expect(checkAclEntry('1.2.3.0', 33)).toEqual({ error: 'Too wide mask (/33) for IPv4 address', at: 'mask' });
    expect(checkAclEntry('::1', 129, false)).toEqual({ error: 'Too wide mask (/129) for IPv6 address', at: 'mask' });
  });

  it('reports what is not an address', () => {
    expect(checkAclEntry('1.2.3.4:80')).toEqual({ error: 'Not an IP address: 1.2.3.4:80', at: 'address' });
    expect(checkAclEntry('1.2.3.0', -1)).toEqual({ error: 'Invalid mask (/-1)', at: 'mask' });
  });
});

describe('findAclConflicts', () => {
  it('pairs the same prefix with opposite verdicts, and only those', () => {
    const entries = [allow('1.2.3.0', 24), allow('1.2.3.0', 24), deny('1.2.3.7', 24), deny('1.2.3.0', 25)];
    expect(findAclConflicts(entries)).toEqual([{ first: 0, second: 2 }]);
  });

  it('tells the families apart', () => {
    expect(findAclConflicts([allow('1.2.3.4'), deny('::ffff:1.2.3.4')])).toEqual([]);
  });
});

function linearMatch(prefixes: (AclPrefix & { negated: boolean })[], bytes: Uint8Array): boolean {
  let best = -1;
  let verdict = false;
  for (const p of prefixes) {
    if (p.mask <= best) continue;
    let covered = true;
    for (let i = 0; i < p.mask && covered; i++) {
      const bit = (b: Uint8Array) => (b[i >> 3] >> (7 - (i & 7))) & 1;
      covered = bit(bytes) === bit(p.bytes);
    }
    if (covered) {
      best = p.mask;
      verdict = !p.negated;
    }
  }
  return verdict;
}

function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  };
}
