// `varnish vNAME -expect PATTERN OP VALUE|PATTERN` and `-expect !PATTERN`: the first counter
// whose name matches the glob (MAIN. added when the pattern has no dot) is compared, again
// every 100 ms for up to 5 seconds, as varnishtest does, so counters updated a moment after
// a response still count.

import { sleep } from './context.ts';
import type { Env } from './spec.ts';
import type { Counter } from './varnish-driver.ts';

const TRIES = 50;
const PAUSE_MS = 100;

/** fnmatch(3) without flags: `*`, `?`, `[...]` (with `!` or `^` negation and ranges). */
export function globToRegExp(glob: string): RegExp {
  let re = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) {
        re += '\\[';
        continue;
      }
      let body = glob.slice(i + 1, end);
      if (body[0] === '!') body = `^${body.slice(1)}`;
      re += `[${body.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else re += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`${re}$`);
}

function fullPattern(p: string): string {
  return p.includes('.') ? p : `MAIN.${p}`;
}

function find(counters: readonly Counter[], re: RegExp): Counter | undefined {
  return counters.find((c) => re.test(c.name));
}

/** C's strtoumax(s, &end, 0) over the whole string: decimal, 0x hex or 0 octal; else undefined. */
function parseUint(s: string): number | undefined {
  if (/^0[xX][0-9a-fA-F]+$/.test(s)) return Number.parseInt(s.slice(2), 16);
  if (/^0[0-7]+$/.test(s)) return Number.parseInt(s.slice(1), 8);
  if (/^\d+$/.test(s)) return Number(s);
  return undefined;
}

function compare(a: number, op: string, b: number): boolean | undefined {
  switch (op) {
    case '==':
      return a === b;
    case '!=':
      return a !== b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    default:
      return undefined;
  }
}

/** Runs one -expect; `args` are the words after -expect (1 for the ! form, else 3). */
export async function expectCounter(env: Env, read: () => Promise<Counter[]>, args: readonly string[]): Promise<void> {
  const { ctx, id } = env;
  const first = args[0];
  const not = first.startsWith('!');
  const pattern = fullPattern(not ? first.slice(1) : first);
  const re = globToRegExp(pattern);
  const [op, refText] = [args[1], args[2]];
  let refNum: number | undefined;
  let refRe: RegExp | undefined;
  if (!not) {
    if (op === undefined || refText === undefined) ctx.fail(id, `-expect ${first}: needs OP and VALUE`);
    if (compare(0, op, 0) === undefined) ctx.fail(id, `-expect ${first}: bad operator ${op}`);
    refNum = parseUint(refText);
    if (refNum === undefined) refRe = globToRegExp(fullPattern(refText));
  }
  let last: { val: number; ref: number } | undefined;
  let found = false;
  for (let i = 0; i < TRIES; i++) {
    if (i > 0) await sleep(env.signal, PAUSE_MS);
    let counters: Counter[];
    try {
      counters = await read();
    } catch (e) {
      return ctx.fail(id, `cannot read counters: ${(e as Error).message}`);
    }
    const c = find(counters, re);
    if (!c) continue;
    found = true;
    if (not) ctx.fail(id, `Found (not expected): ${first.slice(1)}`);
    let ref = refNum;
    if (refRe) {
      const r = find(counters, refRe);
      if (!r) {
        found = false;
        continue;
      }
      ref = r.value;
    }
    last = { val: c.value, ref: ref! };
    if (compare(c.value, op, ref!)) {
      ctx.log.emit(id, 2, `as expected: ${first} (${c.value}) ${op} ${refText} (${ref})`);
      return;
    }
  }
  if (!found) {
    if (not) {
      ctx.log.emit(id, 2, `not found (as expected): ${first.slice(1)}`);
      return;
    }
    ctx.fail(id, `stats field ${first} unknown`);
  }
  ctx.fail(id, `Not true: ${first} (${last?.val}) ${op} ${refText} (${last?.ref})`);
}
