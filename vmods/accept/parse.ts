// The Accept-style header grammar as upstream's accept reads it: `value *( OWS ";" OWS name
// "=" value )` items separated by commas, where only a first parameter named q is a weight.
// Anything else (an empty item, a space around "=", a weight that is not a number from 0 to 1)
// makes the whole header unreadable, and the rule falls back.

export interface AcceptItem {
  readonly value: string;
  readonly q: number;
}

/** A token: up to a separator or white space. */
const TOKEN = /[^,;=\s]+/y;
const OWS = /\s*/y;
/** What C's strtod reads of a weight that starts with 0 or 1 (hex refused, as upstream). */
const WEIGHT = /[01](?![xX])(?:\.\d*)?(?:[eE][+-]?\d+)?/y;

class Reader {
  pos = 0;
  readonly s: string;

  constructor(s: string) {
    this.s = s;
  }

  skip(re: RegExp): string | null {
    re.lastIndex = this.pos;
    const m = re.exec(this.s);
    if (m === null) return null;
    this.pos = re.lastIndex;
    return m[0];
  }

  /** The next character, consumed when it is `c`. */
  eat(c: string): boolean {
    if (this.s[this.pos] !== c) return false;
    this.pos++;
    return true;
  }

  get done(): boolean {
    return this.pos >= this.s.length;
  }
}

/** The items of the header in order, or null when it does not parse. */
export function parseAccept(s: string): AcceptItem[] | null {
  const r = new Reader(s);
  const items: AcceptItem[] = [];
  for (;;) {
    r.skip(OWS);
    if (r.done) return items;
    const value = r.skip(TOKEN);
    if (value === null) return null;
    let q = 1;
    for (let first = true; ; first = false) {
      r.skip(OWS);
      if (r.done) {
        items.push({ value, q });
        return items;
      }
      if (r.eat(',')) break;
      if (!r.eat(';')) return null;
      r.skip(OWS);
      const name = r.skip(TOKEN);
      if (name === null || !r.eat('=')) return null;
      if (first && name === 'q') {
        const w = r.skip(WEIGHT);
        if (w === null || Number(w) > 1) return null;
        q = Number(w);
      } else if (r.skip(TOKEN) === null) return null;
    }
    items.push({ value, q });
  }
}
