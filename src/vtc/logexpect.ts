// `logexpect lNAME -v vNAME [-g vxid|request|raw] [-d 0|1] [-q QUERY] [-i TAGS] [-x TAGS]
// [-I [TAGS:]REGEX] [-X [TAGS:]REGEX] [-C] [-T SECONDS] [-m] [-err] {SPEC} [-start|-wait|-run]`:
// reads the instance's transaction log and walks it against a list of expectations, as
// varnishtest's logexpect does over the shared-memory log. Here the log is what log-feed.ts
// reads: Shellac's transaction records as varnishlog's tagged lines (the lines `shellac log`
// prints), or real varnishd's own through varnishlog.
//
// The spec, run top to bottom:
//   expect SKIP VXID TAG [REGEX]   wait for a line that matches; SKIP is how many lines may be
//                                   passed over first (a number, `*` any, `?` none, but a block
//                                   of consecutive `?` lines may match in any order)
//   fail add VXID TAG [REGEX]      from now on, any line that matches fails the logexpect
//   fail clear                     empties that list
//   abort                          fails at once (varnishtest aborts the process)
// VXID is a number, `*` or `=` (the vxid of the line matched last); TAG a tag name, `*` or `=`.
// `-g session` fails the test: Shellac keeps no session records. -q takes `shellac log`'s query
// language over the lines: a field is a tag (`ReqURL ~ "^/a"`, `ReqHeader:Host eq x`) or vxid.

import { compileQueryOver, QueryError } from '../mgmt/log-query.ts';
import { compileVclRegex, regexMatch, type VclRegex } from '../common/regex.ts';
import { BackgroundEntity } from './background.ts';
import { abortable, type TestContext, VtcAborted } from './context.ts';
import { lexSpec, VtcSyntaxError } from './lexer.ts';
import { type LogFeed, type LogTx, logFeed } from './log-feed.ts';
import { MacroError } from './macros.ts';
import type { Env } from './spec.ts';

type Skip = number | 'any' | 'alt';

interface Pattern {
  readonly vxid: number | 'any' | 'last';
  /** A tag in lower case, or any, or the tag of the line matched last. */
  readonly tag: string | 'any' | 'last';
  readonly re: VclRegex | undefined;
  /** As written, for messages. */
  readonly text: string;
}

type Step = { readonly k: 'expect'; readonly skip: Skip; readonly p: Pattern } | { readonly k: 'fail'; readonly p: Pattern } | { readonly k: 'clear' } | { readonly k: 'abort' };

/** A logexpect that cannot go on: the message says why. */
class LogexpectMismatch extends Error {}

/** Parses a spec into steps; throws LogexpectMismatch with the reason when it cannot. */
function parseSteps(text: string, expand: (s: string) => string, caseless: boolean): Step[] {
  const steps: Step[] = [];
  for (const line of lexSpec(text)) {
    const w = line.tokens.map((t) => expand(t.text));
    const where = `spec line ${line.line}`;
    const pattern = (vxid: string | undefined, tag: string | undefined, re: string | undefined, extra: number): Pattern => {
      if (vxid === undefined || tag === undefined || extra > 0) throw new LogexpectMismatch(`${where}: expected VXID TAG [REGEX] in '${w.join(' ')}'`);
      const v = vxid === '*' ? 'any' : vxid === '=' ? 'last' : /^\d+$/.test(vxid) ? Number(vxid) : undefined;
      if (v === undefined) throw new LogexpectMismatch(`${where}: bad vxid '${vxid}'`);
      let compiled: VclRegex | undefined;
      if (re !== undefined) {
        const c = compileVclRegex(caseless ? `(?i)${re}` : re);
        if ('error' in c) throw new LogexpectMismatch(`${where}: bad regex '${re}': ${c.error}`);
        compiled = c.re;
      }
      const t = tag === '*' ? 'any' : tag === '=' ? 'last' : tag.toLowerCase();
      return { vxid: v, tag: t, re: compiled, text: [vxid, tag, ...(re === undefined ? [] : [re])].join(' ') };
    };
    switch (w[0]) {
      case 'expect': {
        const s = w[1];
        const skip: Skip | undefined = s === '*' ? 'any' : s === '?' ? 'alt' : /^\d+$/.test(s ?? '') ? Number(s) : undefined;
        if (skip === undefined) throw new LogexpectMismatch(`${where}: bad skip '${s ?? ''}'`);
        steps.push({ k: 'expect', skip, p: pattern(w[2], w[3], w[4], w.length - 5) });
        break;
      }
      case 'fail':
        if (w[1] === 'add') steps.push({ k: 'fail', p: pattern(w[2], w[3], w[4], w.length - 5) });
        else if (w[1] === 'clear' && w.length === 2) steps.push({ k: 'clear' });
        else throw new LogexpectMismatch(`${where}: fail add VXID TAG [REGEX] or fail clear, not '${w.join(' ')}'`);
        break;
      case 'abort':
        steps.push({ k: 'abort' });
        break;
      default:
        throw new LogexpectMismatch(`unsupported: logexpect command '${w[0]}' (${where})`);
    }
  }
  return steps;
}

/** The walk through the steps, one log line at a time. */
class Matcher {
  readonly #steps: readonly Step[];
  #pc = 0;
  #skipped = 0;
  #lastVxid = -1;
  #lastTag = '';
  readonly #fails: Pattern[] = [];
  /** In a block of `expect ?` lines: the indexes of those already matched. */
  readonly #altDone = new Set<number>();

  constructor(steps: readonly Step[]) {
    this.#steps = steps;
    this.#advance();
  }

  /** Every expectation met; a fail list left over is refused, since it could never be satisfied. */
  get done(): boolean {
    if (this.#pc < this.#steps.length) return false;
    if (this.#fails.length > 0) throw new LogexpectMismatch(`the spec ended with ${this.#fails.length} 'fail add' still active (end it with 'fail clear')`);
    return true;
  }

  /** Runs the steps that need no log line, up to the next expect. */
  #advance(): void {
    for (; this.#pc < this.#steps.length; this.#pc++) {
      const s = this.#steps[this.#pc];
      if (s.k === 'expect') return;
      if (s.k === 'fail') this.#fails.push(s.p);
      else if (s.k === 'clear') this.#fails.length = 0;
      else throw new LogexpectMismatch('abort');
    }
  }

  #matches(p: Pattern, vxid: number, tag: string, data: string): boolean {
    if (p.vxid === 'last' ? vxid !== this.#lastVxid : p.vxid !== 'any' && p.vxid !== vxid) return false;
    const t = tag.toLowerCase();
    if (p.tag === 'last' ? t !== this.#lastTag : p.tag !== 'any' && p.tag !== t) return false;
    return p.re === undefined || regexMatch(p.re, data);
  }

  #matched(vxid: number, tag: string): void {
    this.#lastVxid = vxid;
    this.#lastTag = tag.toLowerCase();
    this.#skipped = 0;
  }

  /** One line; returns what the logexpect says of it, throws when it fails. */
  feed(vxid: number, tag: string, data: string): 'match' | 'skip' {
    for (const f of this.#fails) {
      if (this.#matches(f, vxid, tag, data)) throw new LogexpectMismatch(`fail spec matched: ${f.text} (line ${vxid} ${tag} ${data})`);
    }
    const s = this.#steps[this.#pc];
    if (s?.k !== 'expect') return 'skip';
    if (s.skip === 'alt') return this.#feedAlt(vxid, tag, data);
    if (this.#matches(s.p, vxid, tag, data)) {
      this.#matched(vxid, tag);
      this.#pc++;
      this.#advance();
      return 'match';
    }
    if (s.skip === 'any' || this.#skipped < s.skip) {
      this.#skipped++;
      return 'skip';
    }
    throw new LogexpectMismatch(`expectation failed: expect ${s.skip} ${s.p.text}, got ${vxid} ${tag} ${data}`);
  }

  #feedAlt(vxid: number, tag: string, data: string): 'match' {
    let end = this.#pc;
    while (end < this.#steps.length && this.#steps[end].k === 'expect' && (this.#steps[end] as { skip: Skip }).skip === 'alt') end++;
    for (let i = this.#pc; i < end; i++) {
      if (this.#altDone.has(i)) continue;
      if (!this.#matches((this.#steps[i] as { p: Pattern }).p, vxid, tag, data)) continue;
      this.#matched(vxid, tag);
      this.#altDone.add(i);
      if (this.#altDone.size === end - this.#pc) {
        this.#altDone.clear();
        this.#pc = end;
        this.#advance();
      }
      return 'match';
    }
    const open = [];
    for (let i = this.#pc; i < end; i++) if (!this.#altDone.has(i)) open.push((this.#steps[i] as { p: Pattern }).p.text);
    throw new LogexpectMismatch(`expectation failed: one of (${open.join('), (')}), got ${vxid} ${tag} ${data}`);
  }
}

/**
 * Transactions in the order a logexpect reads them. vxid (and raw): each one as it ends.
 * request: a client request with the transactions it started (its Link lines), once all of
 * them ended, its own lines first; sessions are left out, and a fetch whose request was read
 * already (a background fetch) comes alone.
 */
class Grouper {
  readonly #byRequest: boolean;
  readonly #ready: LogTx[][] = [];
  /** Ended transactions not read yet, by vxid (request grouping). */
  readonly #ended = new Map<number, LogTx>();
  /** Requests read already: a late child of one comes alone. */
  readonly #done = new Set<number>();

  constructor(byRequest: boolean) {
    this.#byRequest = byRequest;
  }

  add(tx: LogTx): void {
    if (!this.#byRequest) {
      this.#ready.push([tx]);
      return;
    }
    if (tx.kind === 'sess') return;
    if (this.#done.has(tx.parent)) {
      this.#ready.push([tx]);
      return;
    }
    this.#ended.set(tx.vxid, tx);
    this.#collect();
  }

  next(): LogTx[] | undefined {
    return this.#ready.shift();
  }

  /** Moves every top request whose tree has ended to the ready list. */
  #collect(): void {
    for (const tx of this.#ended.values()) {
      if (tx.kind !== 'req' || this.#ended.has(tx.parent)) continue;
      const tree = this.#tree(tx);
      if (!tree) continue;
      for (const t of tree) {
        this.#ended.delete(t.vxid);
        this.#done.add(t.vxid);
      }
      this.#ready.push(tree);
    }
  }

  /** A transaction and all it linked to, depth first; undefined while one has not ended. */
  #tree(tx: LogTx): LogTx[] | undefined {
    const out = [tx];
    for (const [tag, data] of tx.lines) {
      if (tag !== 'Link') continue;
      const child = this.#ended.get(Number(data.split(' ')[1]));
      if (!child) return undefined;
      const sub = this.#tree(child);
      if (!sub) return undefined;
      out.push(...sub);
    }
    return out;
  }
}

/**
 * What a -q field reads from a transaction: the data of its lines of that tag (any case); with
 * `:name`, of those that start with `name:` (a header, a std.log key, a timestamp label) the
 * text after it. `vxid` is the transaction's id.
 */
function lineField(name: string): (tx: LogTx, sub: string | undefined) => readonly (string | number)[] {
  if (name === 'vxid') return (tx) => [tx.vxid];
  const tag = name.toLowerCase();
  return (tx, sub) => {
    const out: string[] = [];
    const prefix = sub === undefined ? undefined : `${sub.toLowerCase()}:`;
    for (const [t, data] of tx.lines) {
      if (t.toLowerCase() !== tag) continue;
      if (prefix === undefined) out.push(data);
      else if (data.toLowerCase().startsWith(prefix)) out.push(data.slice(prefix.length).trim());
    }
    return out;
  };
}

/** Which lines a logexpect looks at: -i/-x by tag, -I/-X by [tags:]regex, as varnishlog. */
interface LineFilter {
  include?: Set<string>;
  exclude?: Set<string>;
  includeRe?: { tags?: Set<string>; re: VclRegex }[];
  excludeRe?: { tags?: Set<string>; re: VclRegex }[];
}

function keepLine(f: LineFilter, tag: string, data: string): boolean {
  const t = tag.toLowerCase();
  if (f.include && !f.include.has(t)) return false;
  if (f.exclude?.has(t)) return false;
  const hits = (list: { tags?: Set<string>; re: VclRegex }[]) => list.some((x) => (!x.tags || x.tags.has(t)) && regexMatch(x.re, data));
  if (f.includeRe && !hits(f.includeRe)) return false;
  if (f.excludeRe && hits(f.excludeRe)) return false;
  return true;
}

const tagList = (s: string) => new Set(s.split(',').map((t) => t.trim().toLowerCase()));

export class VtcLogexpect extends BackgroundEntity {
  varnish: string | undefined;
  grouping: 'vxid' | 'request' | 'raw' = 'vxid';
  fromHead = false;
  query: string | undefined;
  caseless = false;
  expectError = false;
  readonly filter: LineFilter = {};
  spec: string | undefined;

  start(): void {
    const { ctx, name } = this;
    const spec = this.spec;
    if (spec === undefined) throw ctx.fail(name, 'logexpect has no spec to run');
    const v = this.varnish === undefined ? undefined : ctx.varnishes.get(this.varnish);
    if (!v) throw ctx.fail(name, `-v: no varnish instance '${this.varnish ?? ''}'`);
    ctx.log.emit(name, 2, `begin|${this.fromHead ? ' from the head of the log' : ''}`);
    // -d 0 reads what ends from now on: transactions that ended before this moment are passed over.
    const since = this.fromHead ? 0 : Date.now() / 1000;
    const env: Env = { ctx, id: name, signal: ctx.signal };
    this.runInBackground(this.#body(env, logFeed(v), since, spec));
  }

  wait(): Promise<void> {
    return this.waitForRun('logexpect not -started', 'Waiting for logexp thread');
  }

  async #body(env: Env, feedReady: Promise<LogFeed>, since: number, spec: string): Promise<void> {
    const { ctx, name } = this;
    let feed: LogFeed;
    let steps: Step[];
    let filter: ((tx: LogTx) => boolean) | undefined;
    try {
      feed = await feedReady;
      steps = parseSteps(spec, (s) => ctx.macros.expand(s), this.caseless);
      filter = this.query === undefined ? undefined : compileQueryOver(this.query, lineField, ['any log tag', 'vxid']);
    } catch (e) {
      if (e instanceof LogexpectMismatch || e instanceof MacroError || e instanceof VtcSyntaxError || e instanceof QueryError) return ctx.fail(name, e.message);
      return ctx.fail(name, `cannot read the transaction log: ${(e as Error).message}`);
    }
    const matcher = new Matcher(steps);
    const grouper = new Grouper(this.grouping === 'request');
    let cursor = 0;
    const outcome = (failure: string | undefined): void => {
      if (failure === undefined && !this.expectError) {
        ctx.log.emit(name, 2, 'end|');
        return;
      }
      if (failure !== undefined && this.expectError) {
        ctx.log.emit(name, 2, `end| failed as expected (-err): ${failure}`);
        return;
      }
      ctx.fail(name, failure ?? 'logexpect succeeded, but -err expected it to fail');
    };
    try {
      for (;;) {
        for (; cursor < feed.txs.length; cursor++) if (feed.txs[cursor].ended >= since) grouper.add(feed.txs[cursor]);
        for (let g = grouper.next(); g !== undefined; g = grouper.next()) {
          if (filter && !g.some(filter)) continue;
          for (const tx of g) {
            for (const [tag, data] of tx.lines) {
              if (!keepLine(this.filter, tag, data)) continue;
              const said = matcher.feed(tx.vxid, tag, data);
              ctx.log.emit(name, said === 'match' ? 3 : 4, `${said === 'match' ? 'match' : 'skip'}| ${String(tx.vxid).padStart(10)} ${tag.padEnd(20)} ${data}`);
              if (matcher.done) return outcome(undefined);
            }
          }
        }
        if (matcher.done) return outcome(undefined);
        if (feed.testOver) return;
        if (feed.closed) return outcome(`the log ended before the expectations were met${feed.broken ? ` (${feed.broken})` : ''}`);
        await abortable<void>(env.signal, (resolve) => feed.onNext(resolve));
      }
    } catch (e) {
      if (e instanceof LogexpectMismatch) return outcome(e.message);
      throw e;
    }
  }
}

function option(env: Env, args: readonly string[], i: number): string {
  const v = args[i + 1];
  if (v === undefined) env.ctx.fail(env.id, `logexpect: ${args[i]} needs a value`);
  return v;
}

function regexOption(env: Env, value: string, caseless: boolean): { tags?: Set<string>; re: VclRegex } {
  const colon = /^([A-Za-z_,]+):(.*)$/s.exec(value);
  const source = colon ? colon[2] : value;
  const c = compileVclRegex(caseless ? `(?i)${source}` : source);
  if ('error' in c) env.ctx.fail(env.id, `logexpect: bad regex '${source}': ${c.error}`);
  return { tags: colon ? tagList(colon[1]) : undefined, re: c.re };
}

/** The logexpects of each test, by name. */
const byTest = new WeakMap<TestContext, Map<string, VtcLogexpect>>();

export async function logexpectCommand(args: readonly string[], env: Env): Promise<void> {
  const { ctx, id } = env;
  const name = args[1];
  if (name === undefined || name[0] !== 'l') ctx.fail(id, `logexpect name must start with 'l' (got ${name ?? 'nothing'})`);
  let all = byTest.get(ctx);
  if (!all) {
    all = new Map();
    byTest.set(ctx, all);
  }
  let le = all.get(name);
  if (!le) {
    le = new VtcLogexpect(ctx, name);
    all.set(name, le);
  }
  for (let i = 2; i < args.length; i++) {
    if (env.signal.aborted) throw new VtcAborted('stopped');
    const a = args[i];
    if (a === '-wait') {
      await le.wait();
      continue;
    }
    if (le.running) await le.wait();
    switch (a) {
      case '-v':
        le.varnish = option(env, args, i++);
        break;
      case '-d': {
        const d = option(env, args, i++);
        if (d !== '0' && d !== '1') ctx.fail(le.name, `-d ${d}: 0 or 1`);
        le.fromHead = d === '1';
        break;
      }
      case '-g': {
        const g = option(env, args, i++);
        if (g !== 'vxid' && g !== 'request' && g !== 'raw') return ctx.fail(le.name, `unsupported: logexpect -g ${g} (vxid, request and raw; Shellac has no session records)`);
        le.grouping = g;
        break;
      }
      case '-q':
        if (le.query !== undefined) ctx.fail(le.name, 'unsupported: several -q');
        le.query = option(env, args, i++);
        break;
      case '-i':
        le.filter.include = tagList(option(env, args, i++));
        break;
      case '-x':
        le.filter.exclude = tagList(option(env, args, i++));
        break;
      case '-I':
        le.filter.includeRe = [...(le.filter.includeRe ?? []), regexOption(env, option(env, args, i++), le.caseless)];
        break;
      case '-X':
        le.filter.excludeRe = [...(le.filter.excludeRe ?? []), regexOption(env, option(env, args, i++), le.caseless)];
        break;
      case '-C':
        le.caseless = true;
        break;
      case '-T':
        // How long an unfinished transaction is waited for: records here are whole when they arrive.
        option(env, args, i++);
        break;
      case '-m':
        // Also log mismatches: every line is logged here (at level 4).
        break;
      case '-err':
        le.expectError = true;
        break;
      case '-start':
        le.start();
        break;
      case '-run':
        le.start();
        await le.wait();
        break;
      default:
        if (a.startsWith('-')) ctx.fail(le.name, `unsupported: logexpect argument '${a}'`);
        le.spec = a;
    }
  }
}
