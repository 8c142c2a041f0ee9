// The stored header block of an object: its status line and headers as they go on the wire
// ("HTTP/1.1 200 OK\r\nName: value\r\n..."), one byte per character of the byte strings VCL
// holds (latin1, as the HTTP/1 layer reads and writes them), the bytes a storage keeps. VCL's obj.http
// is decoded from it only when asked for, and a bounded ring of decoded heads (DecodedHeads)
// keeps the recently used ones: a hot object is decoded once, a million cold ones cost no JS
// object each.

import { VclHttp } from '../runtime/http.ts';

/** The block for `http`: the status line, then one line per header. */
export function encodeHeaderBlock(http: VclHttp): Buffer {
  let text = `${http.proto} ${http.status} ${http.reason}\r\n`;
  for (let i = 0; i < http.count; i++) text += `${http.nameAt(i)}: ${http.valueAt(i)}\r\n`;
  return Buffer.from(text, 'latin1');
}

/**
 * The VclHttp a block holds. Values were checked when they were set (no CR or LF), names are
 * tokens (no colon), so a line splits at its first ": ". A proto with a space in it (VCL may set
 * one) reads back cut at the space: nothing else is lost.
 */
export function decodeHeaderBlock(block: Uint8Array): VclHttp {
  const text = Buffer.from(block.buffer, block.byteOffset, block.byteLength).toString('latin1');
  let eol = text.indexOf('\r\n');
  if (eol < 0) eol = text.length;
  const sp1 = text.indexOf(' ');
  const sp2 = sp1 < 0 ? -1 : text.indexOf(' ', sp1 + 1);
  const proto = sp1 < 0 || sp1 > eol ? text.slice(0, eol) : text.slice(0, sp1);
  const status = sp1 < 0 || sp1 > eol ? 0 : Number(text.slice(sp1 + 1, sp2 < 0 || sp2 > eol ? eol : sp2));
  const reason = sp2 < 0 || sp2 > eol ? '' : text.slice(sp2 + 1, eol);
  const http = VclHttp.response(Number.isFinite(status) ? status : 0, reason, proto);
  for (let at = eol + 2; at < text.length; ) {
    let end = text.indexOf('\r\n', at);
    if (end < 0) end = text.length;
    const colon = text.indexOf(': ', at);
    if (colon > at && colon < end) {
      const name = text.slice(at, colon);
      http.appendTrusted(name, name.toLowerCase(), text.slice(colon + 2, end));
    }
    at = end + 2;
  }
  return http;
}

/** What a ring slot points back to: an object that keeps its decoded head until told to drop it. */
export interface DecodedHolder {
  dropDecoded(): void;
}

/** No slot: an object that is not in the ring. */
export const NO_SLOT = -1;

/**
 * The objects whose decoded head is kept, oldest first out: taking a slot tells the object that
 * held it to let go. A fixed array: remembering one costs no allocation.
 */
export class DecodedHeads {
  readonly #slots: (DecodedHolder | null)[];
  #next = 0;

  constructor(size: number) {
    this.#slots = new Array<DecodedHolder | null>(size).fill(null);
  }

  /** Keeps `holder` decoded until its slot is wanted again; returns the slot. */
  remember(holder: DecodedHolder): number {
    const slots = this.#slots;
    const slot = this.#next;
    const old = slots[slot];
    if (old !== null && old !== holder) old.dropDecoded();
    slots[slot] = holder;
    this.#next = (slot + 1) % slots.length;
    return slot;
  }

  /** An object leaving the cache lets go of its slot at once (the ring keeps no dead object). */
  forget(holder: DecodedHolder, slot: number): void {
    if (slot !== NO_SLOT && this.#slots[slot] === holder) this.#slots[slot] = null;
  }
}

/** The heads of the 1024 objects most recently decoded or stored stay decoded (1-2 MB). */
export const decodedHeads = new DecodedHeads(1024);
