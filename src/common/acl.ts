// Compiled VCL ACLs. Semantics as in Varnish: the most specific (longest prefix) entry that
// covers the address decides, a `!` entry denying; no covering entry means no match. IPv4 and
// IPv6 entries live apart: an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is only matched by IPv6
// entries, and an IPv4 address only by IPv4 ones (checked with varnishtest).
//
// Matching walks a binary trie of the entry prefixes, one bit per step, remembering the last
// verdict passed: at most 32 (IPv4) or 128 (IPv6) steps over typed arrays, no allocation.

import { parseIpLiteral, type VclIp } from './ip.ts';

/** One ACL line, with any host name already resolved to an address literal. */
export interface AclEntry {
  readonly negated: boolean;
  readonly address: string;
  /** The prefix length; absent means the whole address (/32 or /128). */
  readonly mask?: number;
}

export interface CompiledAcl {
  match(ip: VclIp): boolean;
}

/** An entry reduced to what matching needs: family, the address with host bits cleared, length. */
export interface AclPrefix {
  readonly family: 4 | 6;
  readonly bytes: Uint8Array;
  readonly mask: number;
  /** The cleared address and its mask as VCL would write them, e.g. `1.2.3.0/24`. */
  readonly text: string;
}

export interface AclEntryCheck {
  /** Varnish's message when the entry is refused; `at` says which token it points at. */
  readonly error?: string;
  readonly at?: 'address' | 'mask';
  /** Present when there is no error. */
  readonly normalized?: AclPrefix;
}

/**
 * Checks one entry as the VCL compiler does. `pedantic` is the ACL's flag, on unless the ACL is
 * declared `-pedantic`: then host bits set beyond the mask are an error, else they are cleared.
 */
export function checkAclEntry(address: string, mask?: number, pedantic = true): AclEntryCheck {
  const ip = parseIpLiteral(mask === undefined ? address : netNotation(address));
  if (ip === null) return { error: `Not an IP address: ${address}`, at: 'address' };
  const width = ip.family === 4 ? 32 : 128;
  const bits = mask ?? width;
  if (!Number.isInteger(bits) || bits < 0) return { error: `Invalid mask (/${bits})`, at: 'mask' };
  if (bits > width) {
    return { error: `Too wide mask (/${bits}) for IPv${ip.family} address`, at: 'mask' };
  }
  const bytes = clearHostBits(ip.bytes, bits);
  const cleared = parseIpLiteral(textOf(ip.family, bytes))!;
  const normalized: AclPrefix = { family: ip.family, bytes, mask: bits, text: `${cleared.text}/${bits}` };
  if (pedantic && !sameBytes(bytes, ip.bytes)) {
    // The hint prints the address as VCL does, so a mapped IPv6 one reads as IPv4.
    return { error: `Non-zero bits in masked part, (maybe use ${normalized.text} ?)`, at: 'address' };
  }
  return { normalized };
}

/**
 * `"10"/8`, `"172.16"/12`, `"192.168.1"/24`: with a mask, one to three decimal parts are a
 * network's leading bytes, the rest zero (Varnish's network notation), not inet_aton's reading
 * (where "127" is 0.0.0.127).
 */
function netNotation(address: string): string {
  const parts = address.split('.');
  if (parts.length > 3 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return address;
  while (parts.length < 4) parts.push('0');
  return parts.join('.');
}

/** Pairs of entries (indexes) naming the same prefix with opposite verdicts: a compile error. */
export function findAclConflicts(entries: readonly AclEntry[]): { first: number; second: number }[] {
  const seen = new Map<string, number>();
  const conflicts: { first: number; second: number }[] = [];
  entries.forEach((entry, i) => {
    const prefix = toPrefix(entry);
    const key = `${prefix.family}|${prefix.text}`;
    const first = seen.get(key);
    if (first === undefined) seen.set(key, i);
    else if (entries[first].negated !== entry.negated) conflicts.push({ first, second: i });
  });
  return conflicts;
}

/**
 * Builds the matcher. Entries are normalized without the pedantic check (the checker reports
 * that); an entry that is not an address, or two that conflict, is a programming error.
 */
export function compileAcl(entries: readonly AclEntry[]): CompiledAcl {
  const conflict = findAclConflicts(entries)[0];
  if (conflict !== undefined) {
    throw new Error(`conflicting ACL entries #${conflict.first} and #${conflict.second}`);
  }
  const v4 = new TrieBuilder();
  const v6 = new TrieBuilder();
  for (const entry of entries) {
    const prefix = toPrefix(entry);
    (prefix.family === 4 ? v4 : v6).add(prefix.bytes, prefix.mask, !entry.negated);
  }
  return new TrieAcl(v4.build(), v6.build());
}

function toPrefix(entry: AclEntry): AclPrefix {
  const check = checkAclEntry(entry.address, entry.mask, false);
  if (check.normalized === undefined) throw new Error(`bad ACL entry "${entry.address}": ${check.error}`);
  return check.normalized;
}

// ---------------------------------------------------------------------------------------------
// The trie

const NO_VERDICT = 0;
const ALLOW = 1;
const DENY = 2;

/** Node 0 is the root; a child index of 0 means "no child" since the root is nobody's child. */
interface Trie {
  readonly zero: Int32Array;
  readonly one: Int32Array;
  readonly verdict: Uint8Array;
}

class TrieBuilder {
  private readonly zero: number[] = [0];
  private readonly one: number[] = [0];
  private readonly verdict: number[] = [NO_VERDICT];

  add(bytes: Uint8Array, mask: number, allow: boolean): void {
    let node = 0;
    for (let i = 0; i < mask; i++) {
      const side = bitAt(bytes, i) ? this.one : this.zero;
      let next = side[node];
      if (next === 0) {
        next = this.verdict.length;
        this.zero.push(0);
        this.one.push(0);
        this.verdict.push(NO_VERDICT);
        side[node] = next;
      }
      node = next;
    }
    this.verdict[node] = allow ? ALLOW : DENY;
  }

  build(): Trie {
    return {
      zero: Int32Array.from(this.zero),
      one: Int32Array.from(this.one),
      verdict: Uint8Array.from(this.verdict),
    };
  }
}

class TrieAcl implements CompiledAcl {
  private readonly v4: Trie;
  private readonly v6: Trie;

  constructor(v4: Trie, v6: Trie) {
    this.v4 = v4;
    this.v6 = v6;
  }

  match(ip: VclIp): boolean {
    const trie = ip.family === 4 ? this.v4 : this.v6;
    const { zero, one, verdict } = trie;
    const bytes = ip.bytes;
    const bits = bytes.length * 8;
    let result = verdict[0];
    let node = 0;
    for (let i = 0; i < bits; i++) {
      node = (bytes[i >> 3] >> (7 - (i & 7))) & 1 ? one[node] : zero[node];
      if (node === 0) break;
      const v = verdict[node];
      if (v !== NO_VERDICT) result = v;
    }
    return result === ALLOW;
  }
}

// ---------------------------------------------------------------------------------------------
// Bits and text

function bitAt(bytes: Uint8Array, i: number): number {
  return (bytes[i >> 3] >> (7 - (i & 7))) & 1;
}

function clearHostBits(bytes: Uint8Array, mask: number): Uint8Array {
  const out = Uint8Array.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, mask - 8 * i));
    out[i] &= (0xff00 >> keep) & 0xff;
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function textOf(family: 4 | 6, bytes: Uint8Array): string {
  if (family === 4) return bytes.join('.');
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  return words.join(':');
}
