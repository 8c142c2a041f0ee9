import { describe, expect, it } from 'vitest';
import { ipEquals, ipFromSocket, ipToString, makeIp, parseIp, parseIpLiteral } from '../../src/common/ip.ts';

/** text → [printed address, port] as Varnish 7.1's std.ip(text, "0.0.0.0") gave them. */
const ACCEPTED: [string, string, number][] = [
  ['1.2.3.4', '1.2.3.4', 80],
  ['1.2.3.4:8080', '1.2.3.4', 8080],
  ['1.2.3.4 8080', '1.2.3.4', 8080],
  ['1.2.3.4:', '1.2.3.4', 80],
  ['1.2.3.4 ', '1.2.3.4', 80],
  ['1.2.3.4:080', '1.2.3.4', 80],
  ['1.2.3.4:0', '1.2.3.4', 0],
  ['1.2.3.4:99999', '1.2.3.4', 34463],
  ['1.2.3.4:http', '1.2.3.4', 80],
  ['[1.2.3.4]:90', '1.2.3.4', 90],
  ['[1.2.3.4]', '1.2.3.4', 80],
  ['127.1', '127.0.0.1', 80],
  ['1.2.3', '1.2.0.3', 80],
  ['01.2.3.4', '1.2.3.4', 80],
  ['010.0.0.1', '8.0.0.1', 80],
  ['0x7f.1', '127.0.0.1', 80],
  ['2130706433', '127.0.0.1', 80],
  ['[2001:db8:0:0:1:0:0:1]:8080', '2001:db8::1:0:0:1', 8080],
  ['[2001:db8::1] 8080', '2001:db8::1', 8080],
  ['[::1]', '::1', 80],
  ['[::1]:', '::1', 80],
  ['[::1]:https', '::1', 443],
  ['2001:db8::', '2001:db8::', 80],
  ['2001:DB8::A', '2001:db8::a', 80],
  ['::', '::', 80],
  ['::2', '::2', 80],
  ['::0.0.0.2', '::2', 80],
  ['::1.2.3.4', '::1.2.3.4', 80],
  ['::1:80', '::0.1.0.128', 80],
  ['1:0:0:2:0:0:0:3', '1:0:0:2::3', 80],
  ['0:0:1:0:0:0:0:0', '0:0:1::', 80],
  ['0:0:0:0:0:1:0:0', '::1:0:0', 80],
  ['1:0:2:3:4:5:6:7', '1:0:2:3:4:5:6:7', 80],
  ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', 80],
  ['::ffff:1.2.3.4', '1.2.3.4', 80],
  ['0:0:0:0:0:ffff:102:304', '1.2.3.4', 80],
  ['::ffff:1:2', '0.1.0.2', 80],
  ['::ffff:0:1.2.3.4', '0:102:304', 80],
  ['::fffe:1.2.3.4', '::fffe:102:304', 80],
];

const REFUSED = [
  '',
  ' 1.2.3.4',
  ':80',
  '1.2.3.4.5',
  '1.2.3.256',
  '1.2.3.4x',
  '08.1.1.1',
  '1.2.3.4:80x',
  '1.2.3.4:ftp',
  '[::1',
  '[::1]x',
  '1:2:3:4:5:6:7:8:9',
  '1::2::3',
  '12345::',
  'fe80::1%lo',
  '::ffff:01.2.3.4',
  '::1.2.3',
  'example.com',
];

describe('parseIp', () => {
  it.each(ACCEPTED)('reads %j as %s port %i', (text, printed, port) => {
    const ip = parseIp(text);
    expect(ip).not.toBeNull();
    expect(ip!.text).toBe(printed);
    expect(ipToString(ip!)).toBe(printed);
    expect(ip!.port).toBe(port);
  });

  it.each(REFUSED)('refuses %j', (text) => {
    expect(parseIp(text)).toBeNull();
  });

  it('takes the default port when none is given', () => {
    expect(parseIp('1.2.3.4', 8080)!.port).toBe(8080);
    expect(parseIp('1.2.3.4:81', 8080)!.port).toBe(81);
  });

  it('keeps the family and bytes in network order', () => {
    const v4 = parseIp('10.1.2.3')!;
    expect(v4.family).toBe(4);
    expect([...v4.bytes]).toEqual([10, 1, 2, 3]);
    const mapped = parseIp('::ffff:1.2.3.4')!;
    expect(mapped.family).toBe(6);
    expect([...mapped.bytes]).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 1, 2, 3, 4]);
  });
});

describe('parseIpLiteral', () => {
  it('reads a bare address with port 0', () => {
    expect(parseIpLiteral('192.0.2.1')).toMatchObject({ family: 4, port: 0, text: '192.0.2.1' });
    expect(parseIpLiteral('2001:db8::1')).toMatchObject({ family: 6, port: 0, text: '2001:db8::1' });
  });

  it('refuses port syntax', () => {
    expect(parseIpLiteral('1.2.3.4:80')).toBeNull();
    expect(parseIpLiteral('[::1]')).toBeNull();
  });
});

describe('ipFromSocket', () => {
  it('unmaps the IPv4-mapped peers of dual-stack listeners', () => {
    const ip = ipFromSocket('::ffff:127.0.0.1', 50000)!;
    expect(ip).toMatchObject({ family: 4, port: 50000, text: '127.0.0.1' });
  });

  it('keeps IPv6 peers and drops a zone', () => {
    expect(ipFromSocket('::1', 1)).toMatchObject({ family: 6, text: '::1', port: 1 });
    expect(ipFromSocket('fe80::1%eth0', 2)).toMatchObject({ family: 6, text: 'fe80::1', port: 2 });
  });

  it('gives null for a socket without an address', () => {
    expect(ipFromSocket(undefined, undefined)).toBeNull();
  });
});

describe('ipEquals', () => {
  it('compares addresses, not ports', () => {
    expect(ipEquals(parseIp('1.2.3.4:80')!, parseIp('1.2.3.4:81')!)).toBe(true);
    expect(ipEquals(parseIp('1.2.3.4')!, parseIp('1.2.3.5')!)).toBe(false);
    expect(ipEquals(parseIp('[::1]:1')!, parseIp('0::1')!)).toBe(true);
  });

  it('never equates an IPv4 address with its mapped IPv6 form', () => {
    expect(ipEquals(parseIp('1.2.3.4')!, parseIp('::ffff:1.2.3.4')!)).toBe(false);
  });
});

describe('makeIp', () => {
  it('copies the bytes it is given', () => {
    const bytes = Uint8Array.of(1, 2, 3, 4);
    const ip = makeIp(bytes, 9);
    bytes[0] = 99;
    expect(ip.text).toBe('1.2.3.4');
    expect(ip.bytes[0]).toBe(1);
  });

  it('refuses a length that is neither 4 nor 16', () => {
    expect(() => makeIp(new Uint8Array(5), 0)).toThrow('an IP address has 4 or 16 bytes, not 5');
  });
});
