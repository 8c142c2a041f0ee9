import { describe, expect, it } from 'vitest';
import { formatHttpDate, parseHttpDate, setHttpDatePostel, trimBlanks } from '../../src/runtime/httpdate.ts';

describe('parseHttpDate', () => {
  it('reads the epoch as 0, unlike std.time which takes it for a failure', () => {
    expect(parseHttpDate('Thu, 01 Jan 1970 00:00:00 GMT')).toBe(0);
  });

  it('reads dates only, not numbers', () => {
    expect(parseHttpDate('784111777')).toBeNull();
    expect(parseHttpDate('Sun, 06 Nov 1994 08:49:37 GMT')).toBe(784111777);
  });

  it('round-trips with formatHttpDate over four centuries', () => {
    for (let t = -2208988800; t < 7258118400; t += 86400 * 97 + 3671) {
      expect(parseHttpDate(formatHttpDate(t))).toBe(t);
    }
  });
});

describe('feature http_date_postel', () => {
  it('reads a one-digit day only while the feature is on', () => {
    const text = 'Thu, 4 Jan 2018 06:26:29 GMT';
    expect(parseHttpDate(text)).toBeNull();
    setHttpDatePostel(true);
    try {
      expect(parseHttpDate(text)).toBe(parseHttpDate('Thu, 04 Jan 2018 06:26:29 GMT'));
      expect(parseHttpDate('Fri, 4 Jan 2018 06:26:29 GMT')).toBeNull();
    } finally {
      setHttpDatePostel(false);
    }
    expect(parseHttpDate(text)).toBeNull();
  });
});

describe('trimBlanks', () => {
  it('trims spaces and tabs only', () => {
    expect(trimBlanks(' \tx y\t ')).toBe('x y');
    expect(trimBlanks('\vx\n')).toBe('\vx\n');
    const s = 'same';
    expect(trimBlanks(s)).toBe(s);
  });
});
