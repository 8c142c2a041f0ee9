// std's conversions called directly; every expectation was observed in Varnish 7.1.
import { describe, expect, it } from 'vitest';
import { parseIpLiteral } from '../../src/common/ip.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import { TestContext } from '../../test/helpers/vmod-context.ts';
import { bytes, duration, integer, ip, real, time } from './conversions.ts';
import { real2integer, real2time, round, time2integer, time2real } from './numbers.ts';

const ctx = new TestContext();
const u = undefined;

function failure(message: string): VmodFailure {
  return new VmodFailure(message);
}

describe('std.integer', () => {
  it('converts strings, with a fallback', () => {
    expect(integer(ctx, ' 12 ', u, u, u, u, u, u)).toBe(12);
    expect(integer(ctx, '1.0009', u, u, u, u, u, u)).toBe(1);
    expect(integer(ctx, '-999999999999999', u, u, u, u, u, u)).toBe(-999999999999999);
    expect(integer(ctx, 'abc', 7, u, u, u, u, u)).toBe(7);
    expect(integer(ctx, null, 7, u, u, u, u, u)).toBe(7);
  });

  it.each([
    ['1.5', 'std.integer: conversion failed'],
    ['1x', 'std.integer: conversion failed'],
    ['', 'std.integer: conversion failed: Invalid number'],
    ['-', 'std.integer: conversion failed: Invalid number'],
    ['+1', 'std.integer: conversion failed: Invalid number'],
    ['.', 'std.integer: conversion failed: Invalid number'],
    ['x1', 'std.integer: conversion failed: Invalid number'],
    ['1234567890123456', 'std.integer: conversion failed: Too many digits'],
    ['1234567890123.0', 'std.integer: conversion failed: Too many digits'],
  ])('fails on %j with %s', (s, message) => {
    expect(() => integer(ctx, s, u, u, u, u, u, u)).toThrow(failure(message));
  });

  it('fails a NULL string without a reason', () => {
    expect(() => integer(ctx, null, u, u, u, u, u, u)).toThrow(failure('std.integer: conversion failed'));
  });

  it('converts the other types, truncating toward zero', () => {
    expect(integer(ctx, u, u, true, u, u, u, u)).toBe(1);
    expect(integer(ctx, u, u, u, 10240, u, u, u)).toBe(10240);
    expect(integer(ctx, u, u, u, u, 1.9, u, u)).toBe(1);
    expect(integer(ctx, u, u, u, u, -1.9, u, u)).toBe(-1);
    expect(integer(ctx, u, u, u, u, u, -2.5, u)).toBe(-2);
    expect(integer(ctx, u, u, u, u, u, u, 1234.9)).toBe(1234);
    expect(() => integer(ctx, u, u, u, u, u, u, 1e24)).toThrow(failure('std.integer: conversion failed'));
    expect(integer(ctx, u, 3, u, u, u, u, 1e24)).toBe(3);
    // An INT has 15 digits: a real past them takes the fallback (vmod_std_b00009).
    expect(integer(ctx, u, 2, u, u, u, 123456789012.345 * 1000, u)).toBe(123456789012345);
    expect(integer(ctx, u, 2, u, u, u, 123456789012.345 * 1000 * 10, u)).toBe(2);
  });

  it('wants exactly one source', () => {
    expect(() => integer(ctx, '12', u, u, u, u, 1.5, u)).toThrow(failure('std.integer: too many arguments'));
    expect(() => integer(ctx, u, u, u, u, u, u, u)).toThrow(failure('std.integer: not enough arguments'));
  });
});

describe('std.real', () => {
  it('converts strings and other types', () => {
    expect(real(ctx, '1.2345', u, u, u, u, u, u)).toBeCloseTo(1.234, 10);
    expect(real(ctx, '1.', u, u, u, u, u, u)).toBe(1);
    expect(real(ctx, '-.5', u, u, u, u, u, u)).toBe(-0.5);
    expect(real(ctx, '1 .5', u, u, u, u, u, u)).toBe(1.5);
    expect(real(ctx, '123456789012', u, u, u, u, u, u)).toBe(123456789012);
    expect(real(ctx, u, u, u, true, u, u, u)).toBe(1);
    expect(real(ctx, u, u, u, u, u, u, 1.25)).toBe(1.25);
    expect(real(ctx, 'x', 2.5, u, u, u, u, u)).toBe(2.5);
  });

  it.each([
    ['', 'std.real: conversion failed: Invalid number'],
    ['  ', 'std.real: conversion failed: Invalid number'],
    ['- 1', 'std.real: conversion failed: Invalid number'],
    ['1.5x', 'std.real: conversion failed'],
    ['0x10', 'std.real: conversion failed'],
    ['1e3', 'std.real: conversion failed'],
    ['1234567890123', 'std.real: conversion failed: Too many digits'],
    ['-1234567890123', 'std.real: conversion failed: Too many digits'],
    ['1234567890123.5', 'std.real: conversion failed: Too many digits'],
  ])('fails on %j with %s', (s, message) => {
    expect(() => real(ctx, s, u, u, u, u, u, u)).toThrow(failure(message));
  });
});

describe('std.duration, std.bytes, std.time', () => {
  it('converts durations', () => {
    expect(duration(ctx, '1w', u, u, u)).toBe(604800);
    expect(duration(ctx, u, u, 1.5, u)).toBe(1.5);
    expect(duration(ctx, u, u, u, -3)).toBe(-3);
    expect(duration(ctx, null, 60, u, u)).toBe(60);
    expect(() => duration(ctx, '', u, u, u)).toThrow(failure('std.duration: conversion failed'));
    expect(() => duration(ctx, '1s', u, 1.5, u)).toThrow(failure('std.duration: too many arguments'));
  });

  it('converts bytes, refusing negative and huge values', () => {
    expect(bytes(ctx, '10K', u, u, u)).toBe(10240);
    expect(bytes(ctx, u, u, 1.9, u)).toBe(1);
    expect(bytes(ctx, u, 2, u, -1)).toBe(2);
    expect(bytes(ctx, u, 5, -1, u)).toBe(5);
    expect(bytes(ctx, u, 2, 2 ** 53, u)).toBe(2);
    expect(() => bytes(ctx, u, u, -1, u)).toThrow(failure('std.bytes: conversion failed'));
    expect(() => bytes(ctx, 'x', u, u, u)).toThrow(failure('std.bytes: conversion failed'));
  });

  it('converts times, taking negative numbers as they are', () => {
    expect(time(ctx, 'Sun, 06 Nov 1994 08:49:37 GMT', u, u, u)).toBe(784111777);
    expect(time(ctx, u, u, u, -1)).toBe(-1);
    expect(time(ctx, u, u, -1.5, u)).toBe(-1.5);
    expect(time(ctx, 'Thu, 01 Jan 1970 00:00:00 GMT', 5, u, u)).toBe(5);
    expect(() => time(ctx, 'x', u, u, u)).toThrow(failure('std.time: conversion failed'));
    expect(() => time(ctx, null, u, u, u)).toThrow(failure('std.time: conversion failed'));
  });
});

describe('std.ip', () => {
  const fallback = parseIpLiteral('9.9.9.9');

  it('reads numeric addresses and ports', () => {
    expect(ip(ctx, '1.2.3.4', u, true, '8080')?.port).toBe(8080);
    expect(ip(ctx, '1.2.3.4:90', u, true, '8080')?.port).toBe(90);
    expect(ip(ctx, '1.2.3.4', u, true, 'http')?.port).toBe(80);
    expect(ip(ctx, '1.2.3.4', u, true, '')?.port).toBe(0);
    expect(ip(ctx, '[::1]:8', u, true, u)?.text).toBe('::1');
    expect(ip(ctx, '::1', u, true, u)?.port).toBe(80);
  });

  it('refuses service names without resolve, and unknown ones always', () => {
    expect(ip(ctx, '1.2.3.4:http', fallback, false, u)).toBe(fallback);
    expect(ip(ctx, '1.2.3.4', fallback, false, 'http')).toBe(fallback);
    expect(ip(ctx, '1.2.3.4', fallback, true, 'nope')).toBe(fallback);
  });

  it('resolves localhost only when asked to', () => {
    expect(ip(ctx, 'localhost', u, true, u)?.text).toBe('127.0.0.1');
    expect(ip(ctx, 'localhost', fallback, false, u)).toBe(fallback);
  });

  it('fails without a fallback', () => {
    expect(() => ip(ctx, 'nonexistent.invalid', u, true, u)).toThrow(failure('std.ip: conversion failed'));
    expect(() => ip(ctx, null, u, true, u)).toThrow(failure('std.ip: conversion failed'));
    expect(ip(ctx, '', null, true, u)).toBeNull();
  });
});

describe('rounding and the deprecated conversions', () => {
  it('rounds halves away from zero', () => {
    expect(round(ctx, -0.5)).toBe(-1);
    expect(round(ctx, 2.5)).toBe(3);
    expect(round(ctx, 0.49999999999999994)).toBe(0);
    expect(Object.is(round(ctx, -0.4), -0)).toBe(true);
  });

  it('falls back outside VCL ranges', () => {
    expect(real2integer(ctx, -2.5, 0)).toBe(-3);
    expect(real2integer(ctx, 2.499, 0)).toBe(2);
    expect(real2integer(ctx, 999999999999.999, 7)).toBe(1000000000000);
    expect(real2integer(ctx, 9999999999990000, 7)).toBe(7);
    expect(time2integer(ctx, 2.5, 0)).toBe(3);
    expect(time2integer(ctx, -2.5, 0)).toBe(-3);
    expect(time2integer(ctx, 1e24, 3)).toBe(3);
    expect(time2real(ctx, 1.5, 0)).toBe(1.5);
    expect(time2real(ctx, Number.NaN, 2)).toBe(2);
    expect(real2time(ctx, 1.5, 0)).toBe(1.5);
    expect(real2time(ctx, Number.POSITIVE_INFINITY, 4)).toBe(4);
  });
});
