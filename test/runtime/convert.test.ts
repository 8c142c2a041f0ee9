// Every expected value here is what Varnish 7.1.1 printed for the same input, through
// `set resp.http.v = "[" + <expression> + "]"` in varnishtest (null: std used its fallback).

import { describe, expect, it } from 'vitest';
import {
  backendToString,
  boolToString,
  bytesToString,
  durationToString,
  intToString,
  ipToString,
  parseBytes,
  parseDuration,
  parseInteger,
  parseReal,
  parseTime,
  parseVclNumber,
  realToString,
  timeToString,
} from '../../src/runtime/convert.ts';
import { VclRuntimeError } from '../../src/runtime/errors.ts';
import { parseIp } from '../../src/common/ip.ts';

describe('INT and BYTES to string', () => {
  it.each([
    [0, '0'],
    [-0, '0'],
    [10240, '10240'],
    [-123, '-123'],
    [999999999999999, '999999999999999'],
    [-999999999999999, '-999999999999999'],
  ])('prints %d as %s', (n, text) => {
    expect(intToString(n)).toBe(text);
    expect(bytesToString(n)).toBe(text);
  });

  it.each([
    [2 ** 60, 'INT overflow converting to string (1000000000000000)'],
    [2 ** 50, 'INT overflow converting to string (4000000000000)'],
    [1.5 * 2 ** 50, 'INT overflow converting to string (6000000000000)'],
    [-1e15, 'INT overflow converting to string (FFFC72815B398000)'],
  ])('fails the task beyond 15 digits: %d', (n, message) => {
    expect(() => intToString(n)).toThrow(new VclRuntimeError(message));
  });
});

describe('REAL and DURATION to string', () => {
  it.each([
    [1.5, '1.500'],
    [1 / 2000, '0.001'],
    [1 / 16, '0.062'],
    [-1 / 16, '-0.062'],
    [3 / 16, '0.188'],
    [5 / 2, '2.500'],
    [-0, '-0.000'],
    [0, '0.000'],
    [1 / 3, '0.333'],
    [0.0001, '0.000'],
    [-0.0001, '-0.000'],
    [-3, '-3.000'],
    [31536000, '31536000.000'],
    [30000 * 31536000, '946080000000.000'],
    [999999999999.999, '999999999999.999'],
    [-999999999999.5, '-999999999999.500'],
    [2 ** 30 + 0.0625, '1073741824.062'],
  ])('prints %d as %s', (x, text) => {
    expect(realToString(x)).toBe(text);
    expect(durationToString(x)).toBe(text);
  });

  it.each([
    [40000 * 31536000, 'REAL overflow converting to string (1.261440e+12)'],
    [123456789012345, 'REAL overflow converting to string (1.234568e+14)'],
    [-1e13, 'REAL overflow converting to string (-1.000000e+13)'],
    [Number.POSITIVE_INFINITY, 'REAL overflow converting to string (inf)'],
    [Number.NaN, 'REAL overflow converting to string (nan)'],
  ])('fails the task beyond 999999999999.999: %d', (x, message) => {
    expect(() => realToString(x)).toThrow(new VclRuntimeError(message));
  });
});

describe('TIME to string', () => {
  it.each([
    [784111777, 'Sun, 06 Nov 1994 08:49:37 GMT'],
    [784111777.5, 'Sun, 06 Nov 1994 08:49:37 GMT'],
    [0, 'Thu, 01 Jan 1970 00:00:00 GMT'],
    [1.999, 'Thu, 01 Jan 1970 00:00:01 GMT'],
    [-0.5, 'Thu, 01 Jan 1970 00:00:00 GMT'],
    [-1, 'Wed, 31 Dec 1969 23:59:59 GMT'],
    [-1.5, 'Wed, 31 Dec 1969 23:59:59 GMT'],
    [951814177, 'Tue, 29 Feb 2000 08:49:37 GMT'],
    [1e10, 'Sat, 20 Nov 2286 17:46:40 GMT'],
    [253402300799, 'Fri, 31 Dec 9999 23:59:59 GMT'],
    [253402300800, 'Sat, 01 Jan 10000 00:00:00 GM'],
    [999999999999, 'Fri, 27 Sep 33658 01:46:39 GM'],
    [-999999999999, 'Tue, 05 Apr -29719 22:13:21 G'],
    [-2240524800, 'Sun, 01 Jan 1899 00:00:00 GMT'],
    [-30610224000, 'Wed, 01 Jan 1000 00:00:00 GMT'],
    [-59011459200, 'Fri, 01 Jan  100 00:00:00 GMT'],
    [-62135596800, 'Mon, 01 Jan    1 00:00:00 GMT'],
    [-62135596801, 'Sun, 31 Dec    0 23:59:59 GMT'],
    [-62198755200, 'Fri, 01 Jan   -1 00:00:00 GMT'],
  ])('prints %d as %s', (t, text) => {
    expect(timeToString(t)).toBe(text);
  });

  it('serves a repeated second from its cache and still changes with the second', () => {
    expect(timeToString(784111777)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(timeToString(784111777.9)).toBe('Sun, 06 Nov 1994 08:49:37 GMT');
    expect(timeToString(784111778)).toBe('Sun, 06 Nov 1994 08:49:38 GMT');
  });

  it('fails the task for a time no date can show', () => {
    expect(() => timeToString(Number.NaN)).toThrow(VclRuntimeError);
    expect(() => timeToString(1e300)).toThrow('TIME out of range converting to string (1e+300)');
  });
});

describe('other values to string', () => {
  it('prints BOOL, BACKEND and IP', () => {
    expect(boolToString(true)).toBe('true');
    expect(boolToString(false)).toBe('false');
    expect(backendToString({ name: 'default' })).toBe('default');
    expect(backendToString(null)).toBeNull();
    expect(ipToString(parseIp('::ffff:10.0.0.1')!)).toBe('10.0.0.1');
  });
});

describe('std.real: parseReal', () => {
  it.each([
    [' 1.5 ', '1.500'],
    ['\t1.5\t', '1.500'],
    ['1.2345', '1.234'],
    ['1.', '1.000'],
    ['.5', '0.500'],
    ['-.5', '-0.500'],
    ['-0', '-0.000'],
    ['-0.0', '-0.000'],
    ['00001.5', '1.500'],
    ['0000000000001.5', '1.500'],
    ['000000000000001.5', '1.500'],
    ['123456789012', '123456789012.000'],
    ['123456789012.5', '123456789012.500'],
    ['999999999999.999', '999999999999.999'],
    ['-999999999999.5', '-999999999999.500'],
    ['1 .5', '1.500'],
    ['1  .5', '1.500'],
    ['-1 .5', '-1.500'],
    ['1 ', '1.000'],
  ])('reads %j as %s', (s, printed) => {
    expect(realToString(parseReal(s)!)).toBe(printed);
  });

  it.each([
    '',
    '.',
    '-.',
    '-',
    '- 1',
    '- .5',
    '--1',
    '+1.5',
    '1e3',
    '1e',
    'inf',
    'nan',
    '0x10',
    '1.5x',
    '1.5 x',
    '1 x',
    '1 5',
    '1.5.5',
    '1..5',
    '1 . 5',
    '1. 5',
    '1234567890123',
    '1234567890123.5',
    '1000000000000.5',
    '123456789012345',
    '1234567890123456',
    '0000000000000001.5',
    '1.5\v',
  ])('refuses %j', (s) => {
    expect(parseReal(s)).toBeNull();
  });

  it('adds decimals the way Varnish does, not always to the nearest double', () => {
    expect(parseReal('0.3')).toBe(0.30000000000000004);
    expect(parseReal('0.3') === 0.3).toBe(false);
    expect(parseReal('0.123') === 0.123).toBe(false);
    expect(parseReal('1.1')).toBe(1.1);
    expect(parseReal('2.675')).toBe(2.675);
  });

  it('parseVclNumber reads beyond the REAL range, up to 15 digits', () => {
    expect(parseVclNumber('123456789012345')).toBe(123456789012345);
    expect(parseVclNumber('1234567890123456')).toBeNull();
  });
});

describe('std.integer: parseInteger', () => {
  it.each([
    ['123', 123],
    [' 123 ', 123],
    ['\t15\t', 15],
    ['-123', -123],
    ['010', 10],
    ['1.', 1],
    ['-1.', -1],
    ['1.0', 1],
    ['1.000000', 1],
    ['1.0001', 1],
    ['1.0009', 1],
    ['1 .0', 1],
    ['.0', 0],
    ['-.0', 0],
    ['-0', 0],
    ['123456789012.0', 123456789012],
    ['999999999999.000', 999999999999],
    ['999999999999999', 999999999999999],
    ['-999999999999999', -999999999999999],
  ])('reads %j as %d', (s, n) => {
    const v = parseInteger(s);
    expect(v).toBe(n);
    expect(Object.is(v, -0)).toBe(false);
  });

  it.each([
    '',
    ' ',
    '-',
    '- 1',
    '.',
    '+123',
    '0x10',
    '12a',
    '1e3',
    '1.5',
    '1.9999',
    '1 .5',
    '1 5',
    '1000000000000000',
    '0000000000000001',
    '123456789012345.0',
    '1000000000000.000',
  ])('refuses %j', (s) => {
    expect(parseInteger(s)).toBeNull();
  });
});

describe('std.duration: parseDuration', () => {
  it.each([
    ['10s', '10.000'],
    ['1.5m', '90.000'],
    ['1ms', '0.001'],
    ['10 ms', '0.010'],
    [' 10 s ', '10.000'],
    ['1.5\ts', '1.500'],
    ['\t1.5s\t', '1.500'],
    ['-10s', '-10.000'],
    ['-0s', '-0.000'],
    ['-.5s', '-0.500'],
    ['1y', '31536000.000'],
    ['1w', '604800.000'],
    ['1d', '86400.000'],
    ['1h', '3600.000'],
    ['1.2345s', '1.234'],
    ['1.1234ms', '0.001'],
    ['1.ms', '0.001'],
    ['.5s', '0.500'],
    ['1.s', '1.000'],
    ['1 .5s', '1.500'],
    ['1 .5 s', '1.500'],
    ['999999999999.5s', '999999999999.500'],
  ])('reads %j as %s', (s, printed) => {
    expect(durationToString(parseDuration(s)!)).toBe(printed);
  });

  it('reads 15-digit whole numbers, beyond what prints', () => {
    expect(parseDuration('123456789012345s')).toBe(123456789012345);
  });

  it.each([
    '',
    's',
    '.s',
    '10',
    '1.5',
    '10S',
    '1Y',
    '1M',
    '1MS',
    '10mss',
    '1.5mss',
    '1.5 m s',
    '1sx',
    '1s1',
    '1e3s',
    '+1s',
    '- 1s',
    '1234567890123456s',
    '0000000000000001s',
    '1234567890123.5s',
    '1000000000000.5s',
  ])('refuses %j', (s) => {
    expect(parseDuration(s)).toBeNull();
  });
});

describe('std.bytes: parseBytes', () => {
  it.each([
    ['10k', 10240],
    ['10K', 10240],
    ['10KB', 10240],
    ['10kb', 10240],
    ['10 k', 10240],
    ['1\tk', 1024],
    [' 10k ', 10240],
    ['1 kB', 1024],
    ['10', 10],
    ['10B', 10],
    ['10b', 10],
    ['1 b', 1],
    ['1 ', 1],
    ['0', 0],
    ['-0', 0],
    ['0.0', 0],
    ['1.000', 1],
    ['2.0', 2],
    ['2.0b', 2],
    ['1.5k', 1536],
    ['1.500k', 1536],
    ['1.5kb', 1536],
    ['1.5kB ', 1536],
    ['1 .5k', 1536],
    ['0.5k', 512],
    ['0.001k', 1],
    ['1.999k', 2046],
    ['1.5m', 1572864],
    ['1m', 1048576],
    ['1g', 1073741824],
    ['1t', 1099511627776],
    ['1p', 2 ** 50],
    ['8191t', 8191 * 2 ** 40],
    ['999999999999999', 999999999999999],
  ])('reads %j as %d', (s, n) => {
    expect(parseBytes(s)).toBe(n);
  });

  it('reads up to just under 2^53 bytes', () => {
    const justUnder = parseBytes('7.999p')!;
    expect(justUnder).toBeGreaterThan(7.99 * 2 ** 50);
    expect(justUnder).toBeLessThan(2 ** 53);
  });

  it.each([
    '',
    'k',
    '1e',
    '1x',
    '1kk',
    '1 k B',
    '1.5bk',
    '-1',
    '-1k',
    '1.5',
    '0.5',
    '1.5B',
    '1.5 B',
    '0.001',
    '1.001',
    '2.',
    '1.k',
    '.5k',
    '1.0000',
    '1.0001k',
    '0.0009k',
    '1.2345k',
    '1.5000k',
    '8p',
    '8.001p',
    '8192t',
    '1000p',
    '9999999999999p',
    '9007199254740992',
    '0000000000000001',
    '1000000000000.5k',
  ])('refuses %j', (s) => {
    expect(parseBytes(s)).toBeNull();
  });
});

describe('std.time: parseTime', () => {
  const NOV_6_1994 = 784111777;

  it.each([
    'Sun, 06 Nov 1994 08:49:37 GMT',
    'Sunday, 06-Nov-94 08:49:37 GMT',
    'Sun Nov  6 08:49:37 1994',
    'Sun Nov 06 08:49:37 1994',
    'Sun Nov  6 08:49:37 1994 ',
    '1994-11-06T08:49:37',
    '1994-11-06T08:49:37 ',
    ' Sun, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMT ',
    '784111777',
    '784111777.00',
    ' 784111777 ',
  ])('reads %j as Sun, 06 Nov 1994 08:49:37 GMT', (s) => {
    expect(parseTime(s)).toBe(NOV_6_1994);
  });

  it.each([
    ['Sun, 06 Nov 1994 08:49:60 GMT', 'Sun, 06 Nov 1994 08:49:59 GMT'],
    ['1994-11-06T08:49:60', 'Sun, 06 Nov 1994 08:49:59 GMT'],
    ['Tue, 29 Feb 2000 08:49:37 GMT', 'Tue, 29 Feb 2000 08:49:37 GMT'],
    ['1996-02-29T08:49:37', 'Thu, 29 Feb 1996 08:49:37 GMT'],
    ['Wed Nov 16 08:49:37 1994', 'Wed, 16 Nov 1994 08:49:37 GMT'],
    ['Wed, 31 Dec 1969 23:59:59 GMT', 'Wed, 31 Dec 1969 23:59:59 GMT'],
    ['1969-12-31T23:59:59', 'Wed, 31 Dec 1969 23:59:59 GMT'],
    ['Fri, 31 Dec 9999 23:59:59 GMT', 'Fri, 31 Dec 9999 23:59:59 GMT'],
    ['Sun, 31 Dec 1899 00:00:00 GMT', 'Sun, 31 Dec 1899 00:00:00 GMT'],
    ['1899-01-01T00:00:00', 'Sun, 01 Jan 1899 00:00:00 GMT'],
    ['Thursday, 06-Nov-69 08:49:37 GMT', 'Thu, 06 Nov 1969 08:49:37 GMT'],
    ['Friday, 06-Nov-70 08:49:37 GMT', 'Fri, 06 Nov 1970 08:49:37 GMT'],
    ['Friday, 06-Nov-37 08:49:37 GMT', 'Fri, 06 Nov 2037 08:49:37 GMT'],
    ['Tuesday, 06-Nov-68 08:49:37 GMT', 'Tue, 06 Nov 2068 08:49:37 GMT'],
    ['Sunday, 06-Nov-50 08:49:37 GMT', 'Sun, 06 Nov 2050 08:49:37 GMT'],
    ['999999999999', 'Fri, 27 Sep 33658 01:46:39 GM'],
    ['253402300800', 'Sat, 01 Jan 10000 00:00:00 GM'],
  ])('reads %j as %s', (s, printed) => {
    expect(timeToString(parseTime(s)!)).toBe(printed);
  });

  it.each([
    ['784111777.5', 784111777.5],
    ['784111777.1234', 784111777.123],
    ['123456789012.5', 123456789012.5],
    ['1.5', 1.5],
    ['1.', 1],
    ['.5', 0.5],
    ['5 ', 5],
    ['1 .5', 1.5],
    ['0.001', 0.001],
  ])('reads the number %j as %d seconds', (s, t) => {
    expect(realToString(parseTime(s)!)).toBe(realToString(t));
  });

  it('reads whole numbers of up to 15 digits', () => {
    expect(parseTime('123456789012345')).toBe(123456789012345);
  });

  it.each([
    '',
    'Mon, 06 Nov 1994 08:49:37 GMT',
    'sun, 06 nov 1994 08:49:37 gmt',
    'Sun, 06 nov 1994 08:49:37 GMT',
    'SUN, 06 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 UTC',
    'Sun, 06 Nov 1994 08:49:37',
    'Sun, 6 Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 8:49:37 GMT',
    'Sun, 06 Nov 94 08:49:37 GMT',
    'Sun,06 Nov 1994 08:49:37 GMT',
    'Sun, 06  Nov 1994 08:49:37 GMT',
    'Sun, 06 Nov 1994 08:49:37 GMTx',
    'Sun, 06 Nov 1994 08:49:37 GMT x',
    'Sun, 06 Nov 1994 08:49:61 GMT',
    'Sun, 06 Nov 1994 24:00:00 GMT',
    'Sun, 00 Nov 1994 08:49:37 GMT',
    'Sun, 32 Nov 1994 08:49:37 GMT',
    'Thu, 31 Nov 1994 08:49:37 GMT',
    'Wed, 31 Feb 1994 08:49:37 GMT',
    'Sat, 01 Jan 1000 00:00:00 GMT',
    'Thu, 01 Jan 1970 00:00:00 GMT',
    'Sunday, 06-Nov-1994 08:49:37 GMT',
    'Sunday,  06-Nov-94 08:49:37 GMT',
    'Sun, 06-Nov-94 08:49:37 GMT',
    'Wednesday, 06-Nov-69 08:49:37 GMT',
    'Thursday, 06-Nov-37 08:49:37 GMT',
    'Sun Nov 6 08:49:37 1994',
    'Sun Nov 16 08:49:37 1994',
    '1994-11-06T08:49:37Z',
    '1994-11-06 08:49:37',
    '1994-11-06T08:49:37.5',
    '1994-11-6T08:49:37',
    '1994-13-06T08:49:37',
    '1994-02-29T08:49:37',
    '1900-02-29T08:49:37',
    '1898-12-31T23:59:59',
    '1000-01-01T00:00:00',
    '1994-11-06T24:00:00',
    '1994-11-06T23:60:00',
    '1994-11-00T23:00:00',
    '0',
    '-0',
    '-5',
    '0.0001',
    '+5',
    '5x',
    '1e3',
    '1234567890123456',
    '1234567890123.5',
  ])('refuses %j', (s) => {
    expect(parseTime(s)).toBeNull();
  });
});
