// std.strftime's formatter against glibc 2.36's strftime on gmtime (answers taken from Varnish
// 7.1's std.strftime and from glibc directly).
import { describe, expect, it } from 'vitest';
import { strftimeUtc } from './strftime.ts';

const T = 1234567890; // Fri, 13 Feb 2009 23:31:30 GMT

describe('strftimeUtc', () => {
  it('formats every conversion as glibc does in the C locale', () => {
    const format =
      '%Y-%m-%dT%H:%M:%S%z %Z %a %A %b %B %c|%x|%X|%p|%j|%U|%W|%V|%G|%g|%u|%w|%e|%k|%l|%I|%s|%C|%y|%D|%F|%T|%R|%r|%h|%%|%P';
    expect(strftimeUtc(T + 0.5, format)).toBe(
      '2009-02-13T23:31:30+0000 GMT Fri Friday Feb February Fri Feb 13 23:31:30 2009|02/13/09|23:31:30|PM|044|06|06|07|2009|09|5|5|13|23|11|11|1234567890|20|09|02/13/09|2009-02-13|23:31:30|23:31|11:31:30 PM|Feb|%|pm',
    );
  });

  it('applies glibc flags, widths and modifiers', () => {
    expect(strftimeUtc(T, '%-d|%_d|%05Y|%^a|%#b|%10A|%-H|%q|%E|%Oe|%Ey|%+')).toBe(
      '13|13|02009|FRI|FEB|    Friday|23|%q|%E|13|09|%+',
    );
    expect(strftimeUtc(T, '%10s|%-10Y|%_5m|%010d|%^B|%#Z|%#p|%^p|%3e|%Ez|%:z|%Ou|%C%y')).toBe(
      '1234567890|      2009|    2|0000000013|FEBRUARY|gmt|pm|PM| 13|+0000|%:z|5|2009',
    );
    expect(strftimeUtc(T, '%10z')).toBe('         +0000000000');
    expect(strftimeUtc(T, '%_6z|%-z|%010q|%-10q|%10%|%^P|%^c|%012F')).toBe(
      '     +     0|+0|00000%010q|     %-10q|         %|pm|FRI FEB 13 23:31:30 2009|002009-02-13',
    );
    expect(strftimeUtc(T, '%#3Eh|%Ed|%OY|%5')).toBe('%#3EH|%Ed|%OY|   %5');
  });

  it('handles times before the epoch and far years', () => {
    expect(strftimeUtc(-1.5, '%Y-%m-%d %H:%M:%S %s %j %U %W %V %G')).toBe('1969-12-31 23:59:59 -1 365 52 52 01 1970');
    expect(strftimeUtc(-62135596801, '%Y %C %y %G %g %D')).toBe('0 0 00 0 00 12/31/00');
    expect(strftimeUtc(-99999999999, '%Y %C %y')).toBe('-1199 -12 01');
    expect(strftimeUtc(253402300800, '%Y')).toBe('10000');
    expect(strftimeUtc(99999999999 * 99999, '%Y %s')).toBe('316886186 9999899999900000');
  });

  it('gives an empty string for an empty format', () => {
    expect(strftimeUtc(T, '')).toBe('');
  });
});
