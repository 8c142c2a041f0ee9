// The stored head of a cached object as a hit whose resp VCL made writes it: the status line and
// the object's header lines in wire form, encoded from obj.http and kept beside it. A hit whose
// vcl_deliver only added lines to resp writes this block as bytes, then the lines added
// (X-Varnish, Age, Via, and whatever VCL set), Accept-Ranges, Content-Length and Connection:
// no stored header is read, lower-cased or encoded again. Anything else (a stored line changed
// or removed, a status changed, a Connection line) goes through deliver.ts's general writer,
// which gives the same bytes the long way. A hit whose resp nothing read needs none of this: it
// writes the first bytes of the object's stored block itself (header-block.ts, HeadFacts).
//
// storedHead(obj) is kept with the object's decoded head (obj.http), not with the object: the
// storage keeps a bounded ring of decoded heads, so only objects in use hold one.

import type { CacheObject } from '../cache/index.ts';
import type { VclHttp } from '../runtime/http.ts';
import { CONNECTION_SPECIFIC } from '../common/http-headers.ts';
import { statusReason } from '../runtime/status.ts';

export interface StoredHead {
  /**
   * resp's first lines after the deliver step made it from obj.http: the object's lines but
   * X-Varnish and Age, which that step sets anew (at the end). Compared by reference: resp's
   * strings are the object's own until VCL changes one.
   */
  readonly names: readonly string[];
  readonly values: readonly string[];
  /** `HTTP/1.1 status reason` and those lines, but the connection's own and Content-Length. */
  readonly bytes: Buffer;
  readonly status: number;
  readonly reason: string;
  readonly hasAcceptRanges: boolean;
  /** The object has a line the writer must look at (Connection...): never written from here. */
  readonly unfit: boolean;
}

/** Lines the deliver step replaces (see client.ts): they are not part of resp's stored run. */
const REPLACED = new Set(['x-varnish', 'age']);

const HEADS = new WeakMap<VclHttp, StoredHead>();

/** The object's stored head, encoded on the first hit and kept as long as its decoded head is. */
export function storedHead(obj: CacheObject): StoredHead {
  const http = obj.http;
  let head = HEADS.get(http);
  if (head === undefined) {
    head = encode(http);
    HEADS.set(http, head);
  }
  return head;
}

function encode(http: VclHttp): StoredHead {
  const status = http.status % 1000;
  const names: string[] = [];
  const values: string[] = [];
  let text = `HTTP/1.1 ${status} ${http.reason || statusReason(status)}\r\n`;
  let hasAcceptRanges = false;
  let unfit = false;
  for (let i = 0; i < http.count; i++) {
    const name = http.nameAt(i);
    const lower = name.toLowerCase();
    if (REPLACED.has(lower)) continue;
    names.push(name);
    values.push(http.valueAt(i));
    // A stored Content-Length is dropped, as the general writer drops it (it writes its own).
    if (lower === 'content-length') continue;
    if (CONNECTION_SPECIFIC.has(lower)) unfit = true;
    if (lower === 'accept-ranges') hasAcceptRanges = true;
    text += `${name}: ${http.valueAt(i)}\r\n`;
  }
  return { names, values, bytes: Buffer.from(text, 'latin1'), status: http.status, reason: http.reason, hasAcceptRanges, unfit };
}
