// The HTTP objects VCL reads and writes: req, bereq, beresp, resp and obj. Each holds the fields
// of the first line and the headers in arrival order, repeated names kept. Semantics, checked
// against Varnish 7.1 with varnishtest:
// - reading `req.http.x` gives the first X header; repeated headers are not joined (Varnish
//   joins Cache-Control of a request on arrival, and std.collect joins on demand: `collect`);
// - `set` removes every header of that name and appends one at the end, spelled as given;
// - `unset` removes them all;
// - a value with CR, LF or NUL fails the task (Varnish: "Bad header"), and is never stored.
// Header lookups scan flat arrays of lower-cased names: requests carry a few dozen headers at
// most, and a scan of those beats a map both in time and in allocation.

import { VclRuntimeError } from './errors.ts';

/** RFC 9110 token characters: what a header name is made of. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FORBIDDEN_IN_VALUE = /[\r\n\0]/;

export class VclHttp {
  #method = '';
  #url = '';
  #proto = 'HTTP/1.1';
  #reason = '';
  /** The status code; VCL variables check their own ranges when they set it. */
  status = 0;

  #names: string[] = [];
  #lower: string[] = [];
  #values: string[] = [];
  /** The arrays are someone else's too (requestSharing): copied before the first change. */
  #shared = false;

  /** A request object (req, bereq) with its first line. */
  static request(method: string, url: string, proto = 'HTTP/1.1'): VclHttp {
    const http = new VclHttp();
    http.method = method;
    http.url = url;
    http.proto = proto;
    return http;
  }

  /**
   * A request whose header lines are already known good (tokens for names, no CR, LF or NUL in
   * values): the arrays become the object's own, so the caller must not keep them.
   */
  static requestWithLines(method: string, url: string, proto: string, names: string[], lower: string[], values: string[]): VclHttp {
    const http = new VclHttp();
    http.#method = method;
    http.#url = url;
    http.#proto = proto;
    http.#names = names;
    http.#lower = lower;
    http.#values = values;
    return http;
  }

  /**
   * requestWithLines for arrays the caller keeps and may hand to other requests (the same lines
   * on a keep-alive connection): they are read as they are, and copied before any change.
   */
  static requestSharing(method: string, url: string, proto: string, names: string[], lower: string[], values: string[]): VclHttp {
    const http = VclHttp.requestWithLines(method, url, proto, names, lower, values);
    http.#shared = true;
    return http;
  }

  /** A response object (beresp, resp, obj) with its first line. */
  static response(status: number, reason: string, proto = 'HTTP/1.1'): VclHttp {
    const http = new VclHttp();
    http.status = status;
    http.reason = reason;
    http.proto = proto;
    return http;
  }

  get method(): string {
    return this.#method;
  }
  set method(value: string) {
    this.#method = checkedField('method', value);
  }
  get url(): string {
    return this.#url;
  }
  set url(value: string) {
    this.#url = checkedField('url', value);
  }
  get proto(): string {
    return this.#proto;
  }
  set proto(value: string) {
    this.#proto = checkedField('proto', value);
  }
  get reason(): string {
    return this.#reason;
  }
  set reason(value: string) {
    this.#reason = checkedField('reason', value);
  }

  /** How many header lines there are. */
  get count(): number {
    return this.#names.length;
  }

  /** The value of the first header of that name (any case), or null when there is none. */
  get(name: string): string | null {
    const key = name.toLowerCase();
    const lower = this.#lower;
    for (let i = 0; i < lower.length; i++) if (lower[i] === key) return this.#values[i];
    return null;
  }

  /** `get` for a name given in lower case (compiled VCL's header names, the proxy's own). */
  getKey(key: string): string | null {
    const lower = this.#lower;
    for (let i = 0; i < lower.length; i++) if (lower[i] === key) return this.#values[i];
    return null;
  }

  has(name: string): boolean {
    return this.#lower.includes(name.toLowerCase());
  }

  /** `has` for a name given in lower case (the proxy's own constants). */
  hasKey(key: string): boolean {
    return this.#lower.includes(key);
  }

  /** Every value of that name, in order. */
  getAll(name: string): string[] {
    const key = name.toLowerCase();
    const out: string[] = [];
    for (let i = 0; i < this.#lower.length; i++) if (this.#lower[i] === key) out.push(this.#values[i]);
    return out;
  }

  /** VCL's `set …http.<name> = value`: one header of that name, at the end. */
  set(name: string, value: string): void {
    checkHeader(name, value);
    const key = name.toLowerCase();
    this.#remove(key);
    this.#push(name, key, value);
  }

  /**
   * `set` for a name already known to be valid (isHeaderName), given with its lower-case form:
   * what compiled VCL calls, its header names having been checked when it was compiled.
   */
  setKnown(name: string, key: string, value: string): void {
    checkValue(name, value);
    this.#remove(key);
    this.#push(name, key, value);
  }

  /**
   * `set` without any check, for headers the proxy writes itself (X-Varnish, Age): `name` must
   * be a token, `key` its lower-case form, `value` free of CR, LF and NUL.
   */
  setTrusted(name: string, key: string, value: string): void {
    this.#remove(key);
    this.#push(name, key, value);
  }

  /** `append` without any check; the same terms as setTrusted. */
  appendTrusted(name: string, key: string, value: string): void {
    this.#push(name, key, value);
  }

  /** Adds one more header line, keeping any of the same name. */
  append(name: string, value: string): void {
    checkHeader(name, value);
    this.#push(name, name.toLowerCase(), value);
  }

  /** VCL's `unset …http.<name>`: removes every header of that name. */
  unset(name: string): void {
    this.#remove(name.toLowerCase());
  }

  /**
   * Joins every header of that name into the first one, values separated by `separator`, as
   * std.collect does (and as Varnish does with a request's Cache-Control on arrival).
   */
  collect(name: string, separator = ', '): void {
    const key = name.toLowerCase();
    const first = this.#lower.indexOf(key);
    if (first < 0) return;
    const all = this.getAll(name);
    if (all.length === 1) return;
    const joined = all.join(separator);
    checkValue(this.#names[first], joined);
    this.#own();
    this.#values[first] = joined;
    this.#remove(key, first + 1);
  }

  /** Removes every header. */
  clear(): void {
    this.#shared = false;
    this.#names = [];
    this.#lower = [];
    this.#values = [];
  }

  nameAt(i: number): string {
    return this.#names[i];
  }

  valueAt(i: number): string {
    return this.#values[i];
  }

  *[Symbol.iterator](): IterableIterator<[string, string]> {
    for (let i = 0; i < this.#names.length; i++) yield [this.#names[i], this.#values[i]];
  }

  /** Adds the lines of node's `rawHeaders` (name, value, name, value, …), checking each. */
  appendRaw(raw: readonly string[]): void {
    for (let i = 0; i + 1 < raw.length; i += 2) this.append(raw[i], raw[i + 1]);
  }

  /** The headers as a flat name/value array, the shape node's writeHead accepts. */
  toRaw(): string[] {
    const out: string[] = new Array(this.#names.length * 2);
    for (let i = 0; i < this.#names.length; i++) {
      out[2 * i] = this.#names[i];
      out[2 * i + 1] = this.#values[i];
    }
    return out;
  }

  /** A copy that shares nothing mutable: bereq from req, resp from obj. */
  clone(): VclHttp {
    const copy = new VclHttp();
    copy.#method = this.#method;
    copy.#url = this.#url;
    copy.#proto = this.#proto;
    copy.#reason = this.#reason;
    copy.status = this.status;
    copy.#names = withRoom(this.#names);
    copy.#lower = withRoom(this.#lower);
    copy.#values = withRoom(this.#values);
    return copy;
  }

  /** The arrays made this object's own, before a change (see requestSharing). */
  #own(): void {
    if (!this.#shared) return;
    this.#shared = false;
    this.#names = withRoom(this.#names);
    this.#lower = withRoom(this.#lower);
    this.#values = withRoom(this.#values);
  }

  #push(name: string, key: string, value: string): void {
    this.#own();
    this.#names.push(name);
    this.#lower.push(key);
    this.#values.push(value);
  }

  /** Removes the headers named `key` (lower case) from index `from` on, compacting in place. */
  #remove(key: string, from = 0): void {
    // Nothing to remove (the common case of set): no change, and no copy of shared arrays.
    const at = this.#lower.indexOf(key, from);
    if (at < 0) return;
    this.#own();
    const names = this.#names;
    const lower = this.#lower;
    const values = this.#values;
    let kept = at;
    for (let i = at; i < lower.length; i++) {
      if (lower[i] === key) continue;
      if (kept !== i) {
        names[kept] = names[i];
        lower[kept] = lower[i];
        values[kept] = values[i];
      }
      kept++;
    }
    // pop() is several times cheaper than shrinking through `length` in V8.
    while (names.length > kept) {
      names.pop();
      lower.pop();
      values.pop();
    }
  }
}

/**
 * A copy of a header array with room to grow: lines are added to most copies (a hit's resp gets
 * X-Varnish, Age, Via...), and a copy of the exact size (slice) is copied again at the first
 * push, three arrays at a time.
 */
function withRoom(a: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) out.push(a[i]);
  return out;
}

/** Whether a header name is an RFC 9110 token, as `set` requires. */
export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

function checkHeader(name: string, value: string): void {
  if (!HEADER_NAME.test(name)) throw new VclRuntimeError(`Bad header name: ${JSON.stringify(name)}`);
  checkValue(name, value);
}

function checkValue(name: string, value: string): void {
  if (FORBIDDEN_IN_VALUE.test(value)) {
    throw new VclRuntimeError(`Bad header ${name}: value contains CR, LF or NUL`);
  }
}

function checkedField(field: string, value: string): string {
  if (FORBIDDEN_IN_VALUE.test(value)) throw new VclRuntimeError(`Bad ${field}: contains CR, LF or NUL`);
  return value;
}
