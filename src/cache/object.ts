// A cached response (Varnish's objcore + object): the stored status line and headers, the body
// as the pieces it arrived in, the expiry fields, and the bookkeeping the cache keeps on it. The
// body may still be arriving: a committed object is findable at once, and any number of readers
// stream it while the fetch appends (one shared promise wakes them all per chunk).
//
// Where the bytes are: in a bounded storage (one with an arena, stevedore.ts), the header block
// and every body piece are ranges of the storage's space (memory slabs or a file), and the
// object keeps only their offsets (the first piece's in its row, the others' in `#rest`: offset,
// length pairs); elsewhere (an unbounded Transient, an object no cache made) a piece is the
// Buffer it arrived in. Readers get copies of stored pieces (`chunk(i)`), theirs to keep however
// long a socket holds them.
//
// Its numbers (times, sizes, hits, offsets) are a row of the object table (object-table.ts)
// while it is in the cache, read through getters, and its LRU, expiry, head and ban links are
// ids in the table, not fields. A cold cached object is a handle of eight fields (96 bytes: kind,
// state and flags packed in one number); what only an object in use needs (its decoded head,
// readers, waiters, an unstored block, extra pieces, Vary, body info) is in one `Rare` object,
// made when first needed and dropped when the ring of decoded heads lets the object go.
//
// Headers: `http` is the VclHttp of the stored header block (header-block.ts), decoded when VCL
// or the delivery asks and kept while the object is among the recently decoded (DecodedHeads);
// never changed (obj.http is read-only in VCL). To deliver, the proxy clones it into resp
// (vcl_deliver may change resp). `headerBlock()` gives the block's bytes as stored.
//
// A stored object leaving the cache gives its ranges back at once unless someone may still read
// it: a reader streaming it or a socket writing it (`pin`), or a request or revalidation that
// had it from a lookup or commit (`lend`) and has not given it back (`giveBack`) within
// LENT_SECONDS, for whom the body is first copied to the heap (`unstore`).
//
// Expiry follows Varnish: `origin` is t_origin (fetch time minus Age), `ttl`, `grace` and
// `keep` are seconds counted from it. Fresh while now < origin + ttl; in grace until
// origin + ttl + grace; kept (for conditional revalidation) until origin + ttl + grace + keep.
// VCL's obj.ttl is `ttlLeft(now)`, obj.age is `now - origin`.
//
// A CacheObject also serves a pass (kind 'private', from Cache.newPrivate, never committed): it
// streams its body to its one reader the same way, gives back each chunk that reader is past,
// and makes its fetch wait while PRIVATE_BUFFER_BYTES are buffered ahead of the reader.

import { type BodyInfo, PLAIN_BODY } from '../filters/body-info.ts';
import type { VclHttp } from '../runtime/http.ts';
import { parseHttpDate } from '../runtime/httpdate.ts';
import { statusReason } from '../runtime/status.ts';
import type { Ban } from './ban-list.ts';
import { decodedHeads, decodeHeaderBlock, encodeHeaderBlock, type HeadFacts, NO_SLOT, ownReason, reasonOf, STATUS_UNKNOWN, storedStatus } from './header-block.ts';
import { NONE, type ObjectTable, ROW, ROW_FIELDS } from './object-table.ts';
import type { Stevedore } from './stevedore.ts';
import type { VarySpec } from './vary.ts';

/** normal, or an object that only records that the content is uncacheable. */
/**
 * `private`: the object a pass, or a response made uncacheable, delivers to its one request;
 * never in the cache, and obj.uncacheable reads true for it, as for the markers.
 */
export type ObjectKind = 'normal' | 'hit_for_miss' | 'hit_for_pass' | 'private';

export type BodyState = 'streaming' | 'done' | 'failed';

/** What obj.storage / storage.<name> show; the cache's storage object fits it. */
export interface ObjectStorage {
  readonly name: string;
  readonly freeSpace: number;
  readonly usedSpace: number;
  readonly happy: boolean;
}

export interface ObjectInit {
  /** The xid of the fetch that made the object (X-Varnish's second number on a hit). */
  readonly xid: number;
  /** Status line and headers, as left by vcl_backend_response. Not copied: do not change it later. */
  readonly http: VclHttp;
  readonly origin: number;
  readonly ttl: number;
  readonly grace: number;
  readonly keep: number;
  readonly kind?: ObjectKind;
  /** From buildVary(); null or absent when the response has no Vary. */
  readonly vary?: VarySpec | null;
  /** A complete body. Leave it out to fill the object with append() and finish(). */
  readonly body?: readonly Buffer[];
  /** What the fetch filters left about the body (gzip, the ESI list); plain when absent. */
  readonly info?: BodyInfo;
  /** When the response headers arrived (seconds); Last-Modified falls back to it. Default: origin. */
  readonly fetchedAt?: number;
}

/** Who hears of body progress: the cache, for a committed object and for a private one. */
export interface ObjectOwner {
  /** A chunk arrived: the owner charges and keeps it (keepChunk / keepStored), or fails obj. */
  grew(obj: CacheObject, chunk: Buffer): void;
  finished(obj: CacheObject): void;
  failed(obj: CacheObject): void;
  /** A private object's reader is past `chunks` chunks of `bytes` bytes: they are given back. */
  released?(obj: CacheObject, bytes: number, chunks: number): void;
  /** A private object's reader is done with it. */
  left?(obj: CacheObject): void;
}

/**
 * Fixed cost charged per object besides headers and body: the bookkeeping itself (index, expiry
 * and LRU entries). Small enough that a 1 MB storage holds a body of 1048290 bytes with its
 * headers, as varnishd's does (conformance c00044).
 */
export const OBJECT_OVERHEAD = 128;

/** A pass's body buffered ahead of its one reader at most this long; the fetch then waits. */
export const PRIVATE_BUFFER_BYTES = 256 * 1024;

/**
 * How long after a lookup or commit handed an object out its bytes are kept readable once it
 * leaves the cache (copied to the heap), while some taker has not given it back: longer than
 * a request takes from lookup to its last synchronous read, or a revalidating fetch to its
 * response headers. A taker that never says it is done (a request whose vcl_hit chose another
 * way) is covered by this window.
 */
export const LENT_SECONDS = 120;

const EMPTY = Buffer.alloc(0);
/** A body this small, one piece, is kept as a copy while its object's head is decoded. */
const HOT_BYTES = 4096;
/** A piece whose bytes are a Buffer of `#bufs`: its offset is -1 - index. */
const ON_HEAP = -1;

const DONE = Promise.resolve();

/** What only a private object needs: where its reader is, and the fetch waiting for room. */
interface PrivateState {
  /** Chunks below this index are given back (the reader is past them). */
  released: number;
  /** The reader left: the fetch stops. */
  abandoned: boolean;
  room: PromiseWithResolvers<void> | null;
}

type HitResult = { readonly kind: 'hit'; readonly obj: CacheObject };

/**
 * The fields most cached objects do not need most of the time, apart so that a cold object's
 * handle is small (a field is 8 bytes, a million objects' worth of them the collector scans).
 */
class Rare {
  /** The decoded headers, or null until asked for again. */
  http: VclHttp | null = null;
  /** Its slot in decodedHeads while it holds one. */
  slot = NO_SLOT;
  /**
   * While it has a slot: a copy of a small one-piece body, made at the first read, so that a hot
   * object's hits hand out the same Buffer (no allocation, as before storage had slabs).
   */
  hot: Buffer | null = null;
  /** The header block when it is not in the storage's space (ROW.headAt is -1). */
  block: Buffer | null = null;
  /**
   * Body pieces after the first (offset and length pairs; the first is in the row); an offset
   * below 0 is a Buffer of `bufs`.
   */
  rest: number[] | null = null;
  bufs: Buffer[] | null = null;
  /** Readers streaming the body (pin/unpin); the ranges of a removed object wait for them. */
  readers = 0;
  /** The ranges of a removed object are given back when its last reader leaves. */
  unstoreLater = false;
  /** The readers waiting for more of a body still arriving. */
  more: PromiseWithResolvers<void> | null = null;
  supersedes: CacheObject | null = null;
  /** A private object's reader and fetch. */
  own: PrivateState | null = null;
  vary: VarySpec | null = null;
  info: BodyInfo = PLAIN_BODY;
}

/** The handle's small fields in one number (a field is 8 bytes a million times over). */
const KINDS: readonly ObjectKind[] = ['normal', 'hit_for_miss', 'hit_for_pass', 'private'];
const STATES: readonly BodyState[] = ['streaming', 'done', 'failed'];
const BITS = {
  /** kind: KINDS index (2 bits); state: STATES index (2 bits, shifted). */
  kind: 3,
  stateShift: 2,
  state: 3 << 2,
  dying: 1 << 4,
  revalidatable: 1 << 5,
} as const;

export class CacheObject {
  /** kind, state, dying and revalidatable (BITS). */
  #bits = 0;
  /**
   * Its numbers (object-table.ts): a row of the object table while it is in the cache (`id` >=
   * 0), else an array of its own. `#row[#at + ROW.x]` is field x.
   */
  #row: Float64Array;
  #at: number;
  /** Its id in the object table; NONE outside the cache. */
  id = NONE;
  /**
   * What an object needs only while it is in use or not yet stored (Rare below), or null: a
   * cold object in a storage is then this handle, its row and its ids, nothing more.
   */
  #x: Rare | null = null;
  // Bookkeeping of the cache that holds the object; callers leave these alone.
  /** The newest ban it has been checked against (BanList). */
  ban: Ban | null = null;
  owner: ObjectOwner | null = null;
  /** Where it is charged (obj.storage in VCL); null for an object no cache made. */
  storage: Stevedore | null = null;

  // What Rare holds, read and written as fields: a default written to an object without Rare
  // makes none.

  #rare(): Rare {
    this.#x ??= new Rare();
    return this.#x;
  }

  get kind(): ObjectKind {
    return KINDS[this.#bits & BITS.kind];
  }

  get state(): BodyState {
    return STATES[(this.#bits & BITS.state) >> BITS.stateShift];
  }

  set state(v: BodyState) {
    this.#bits = (this.#bits & ~BITS.state) | (STATES.indexOf(v) << BITS.stateShift);
  }

  /** Set once the object leaves the cache; lookups never see it again. */
  get dying(): boolean {
    return (this.#bits & BITS.dying) !== 0;
  }

  set dying(v: boolean) {
    this.#bits = v ? this.#bits | BITS.dying : this.#bits & ~BITS.dying;
  }

  /**
   * Whether a refetch may revalidate this object with If-Modified-Since / If-None-Match
   * (Varnish's OF_IMSCAND): a normal 200 with Last-Modified or ETag.
   */
  get revalidatable(): boolean {
    return (this.#bits & BITS.revalidatable) !== 0;
  }

  /** Its Vary (buildVary()), null when the response had none. */
  get vary(): VarySpec | null {
    return this.#x === null ? null : this.#x.vary;
  }

  /**
   * What the fetch filters know of the body (gzipped by us or checked, ESI instructions): a
   * value of its own, set by the fetch before the body is appended and completed with the ESI
   * list before finish().
   */
  get info(): BodyInfo {
    return this.#x === null ? PLAIN_BODY : this.#x.info;
  }

  set info(v: BodyInfo) {
    if (v !== PLAIN_BODY || this.#x !== null) this.#rare().info = v;
  }

  get #http(): VclHttp | null {
    return this.#x === null ? null : this.#x.http;
  }

  set #http(v: VclHttp | null) {
    if (v !== null || this.#x !== null) this.#rare().http = v;
  }

  get #slot(): number {
    return this.#x === null ? NO_SLOT : this.#x.slot;
  }

  set #slot(v: number) {
    if (v !== NO_SLOT || this.#x !== null) this.#rare().slot = v;
  }

  get #hot(): Buffer | null {
    return this.#x === null ? null : this.#x.hot;
  }

  set #hot(v: Buffer | null) {
    if (v !== null || this.#x !== null) this.#rare().hot = v;
  }

  get #block(): Buffer | null {
    return this.#x === null ? null : this.#x.block;
  }

  set #block(v: Buffer | null) {
    if (v !== null || this.#x !== null) this.#rare().block = v;
  }

  get #rest(): number[] | null {
    return this.#x === null ? null : this.#x.rest;
  }

  set #rest(v: number[] | null) {
    if (v !== null || this.#x !== null) this.#rare().rest = v;
  }

  get #bufs(): Buffer[] | null {
    return this.#x === null ? null : this.#x.bufs;
  }

  set #bufs(v: Buffer[] | null) {
    if (v !== null || this.#x !== null) this.#rare().bufs = v;
  }

  get #readers(): number {
    return this.#x === null ? 0 : this.#x.readers;
  }

  set #readers(v: number) {
    if (v !== 0 || this.#x !== null) this.#rare().readers = v;
  }

  get #unstoreLater(): boolean {
    return this.#x === null ? false : this.#x.unstoreLater;
  }

  set #unstoreLater(v: boolean) {
    if (v || this.#x !== null) this.#rare().unstoreLater = v;
  }

  get #more(): PromiseWithResolvers<void> | null {
    return this.#x === null ? null : this.#x.more;
  }

  set #more(v: PromiseWithResolvers<void> | null) {
    if (v !== null || this.#x !== null) this.#rare().more = v;
  }

  get #private(): PrivateState | null {
    return this.#x === null ? null : this.#x.own;
  }

  /** The stale object this one replaces once its body is complete (a refresh). */
  get supersedes(): CacheObject | null {
    return this.#x === null ? null : this.#x.supersedes;
  }

  set supersedes(v: CacheObject | null) {
    if (v !== null || this.#x !== null) this.#rare().supersedes = v;
    if (v === null) this.#trim();
  }

  /** Rare goes once all it holds is back to nothing (a stored object its ring let go). */
  #trim(): void {
    const x = this.#x;
    if (x === null || x.http !== null || x.slot !== NO_SLOT || x.hot !== null || x.block !== null || x.rest !== null || x.bufs !== null) return;
    if (x.readers !== 0 || x.unstoreLater || x.more !== null || x.supersedes !== null || x.own !== null) return;
    if (x.vary !== null || x.info !== PLAIN_BODY) return;
    this.#x = null;
  }

  /** `table`: the object table it takes a row of (it enters the cache); none for a pass's. */
  constructor(init: ObjectInit, table: ObjectTable | null = null) {
    if (table !== null) {
      this.id = table.alloc(this);
      this.#row = table.page(this.id);
      this.#at = table.offset(this.id);
    } else {
      this.#row = new Float64Array(ROW_FIELDS);
      this.#at = 0;
    }
    const row = this.#row;
    const at = this.#at;
    row.fill(0, at, at + ROW_FIELDS);
    row[at + ROW.xid] = init.xid;
    this.#http = init.http;
    const kind = init.kind ?? 'normal';
    this.#bits = KINDS.indexOf(kind);
    if (kind === 'private') this.#rare().own = { released: 0, abandoned: false, room: null };
    if (init.vary !== undefined && init.vary !== null) this.#rare().vary = init.vary;
    row[at + ROW.origin] = init.origin;
    row[at + ROW.ttl] = init.ttl;
    row[at + ROW.grace] = init.grace;
    row[at + ROW.keep] = init.keep;
    row[at + ROW.headAt] = -1;
    const lm = init.http.get('Last-Modified');
    row[at + ROW.lastModified] = lm === null ? Math.floor(init.fetchedAt ?? init.origin) : (parseHttpDate(lm) ?? 0);
    const { block, facts } = encodeHeaderBlock(init.http);
    this.#block = block;
    row[at + ROW.headerBytes] = block.length;
    row[at + ROW.head] = facts;
    if (kind === 'normal' && init.http.status === 200 && (lm !== null || init.http.has('ETag'))) this.#bits |= BITS.revalidatable;
    if (init.info !== undefined) this.info = init.info;
    if (init.body !== undefined) {
      for (const chunk of init.body) this.keepChunk(chunk);
      this.state = 'done';
      this.compact();
    }
  }

  /**
   * The object left the cache: its row goes back to the table, and the object keeps a copy of
   * it (whoever still holds it reads the same values).
   */
  leaveTable(table: ObjectTable): void {
    const id = this.id;
    if (id === NONE) return;
    this.#row = this.#row.slice(this.#at, this.#at + ROW_FIELDS);
    this.#at = 0;
    this.id = NONE;
    table.free(id);
  }

  // The numbers, in the row (object-table.ts).

  /** The xid of the fetch that made the object (X-Varnish's second number on a hit). */
  get xid(): number {
    return this.#row[this.#at + ROW.xid];
  }

  get origin(): number {
    return this.#row[this.#at + ROW.origin];
  }

  set origin(v: number) {
    this.#row[this.#at + ROW.origin] = v;
  }

  get ttl(): number {
    return this.#row[this.#at + ROW.ttl];
  }

  set ttl(v: number) {
    this.#row[this.#at + ROW.ttl] = v;
  }

  get grace(): number {
    return this.#row[this.#at + ROW.grace];
  }

  set grace(v: number) {
    this.#row[this.#at + ROW.grace] = v;
  }

  get keep(): number {
    return this.#row[this.#at + ROW.keep];
  }

  set keep(v: number) {
    this.#row[this.#at + ROW.keep] = v;
  }

  /** Lookups that found this object (obj.hits). */
  get hits(): number {
    return this.#row[this.#at + ROW.hits];
  }

  set hits(v: number) {
    this.#row[this.#at + ROW.hits] = v;
  }

  /** When a lookup or commit last handed it out (seconds). */
  get lentAt(): number {
    return this.#row[this.#at + ROW.lentAt];
  }

  /** Takers (lend) that have not given it back yet (giveBack). */
  get lends(): number {
    return this.#row[this.#at + ROW.lends];
  }

  /**
   * A lookup or commit hands it out at `now`: if it leaves the cache before its taker gives it
   * back (within LENT_SECONDS), its bytes are copied to the heap for that taker first.
   */
  lend(now: number): void {
    const row = this.#row;
    const at = this.#at;
    row[at + ROW.lentAt] = Math.floor(now);
    row[at + ROW.lends]++;
  }

  /**
   * A taker is done with it (a request delivered it or dropped it, a revalidation ended): once
   * every taker is, leaving the cache copies nothing (a reader still writing it holds a pin).
   */
  giveBack(): void {
    const at = this.#at + ROW.lends;
    if (this.#row[at] > 0) this.#row[at]--;
  }

  /** When a hit last moved it up the LRU list. */
  get lruTouched(): number {
    return this.#row[this.#at + ROW.lruTouched];
  }

  set lruTouched(v: number) {
    this.#row[this.#at + ROW.lruTouched] = v;
  }

  /** Last-Modified as a time; when absent, the fetch time (Varnish's OA_LASTMODIFIED). */
  get lastModified(): number {
    return this.#row[this.#at + ROW.lastModified];
  }

  /** Bytes the status line and headers take (the stored header block). */
  get headerBytes(): number {
    return this.#row[this.#at + ROW.headerBytes];
  }

  get bodyBytes(): number {
    return this.#row[this.#at + ROW.bodyBytes];
  }

  /** Bytes and allocations charged to its storage (stevedore.ts). */
  get storedBytes(): number {
    return this.#row[this.#at + ROW.storedBytes];
  }

  set storedBytes(v: number) {
    this.#row[this.#at + ROW.storedBytes] = v;
  }

  get storedAllocs(): number {
    return this.#row[this.#at + ROW.storedAllocs];
  }

  set storedAllocs(v: number) {
    this.#row[this.#at + ROW.storedAllocs] = v;
  }

  /** The header block's offset in the storage's space, -1 when not stored there. */
  get #headAt(): number {
    return this.#row[this.#at + ROW.headAt];
  }

  set #headAt(v: number) {
    this.#row[this.#at + ROW.headAt] = v;
  }

  #addBody(bytes: number): void {
    this.#row[this.#at + ROW.bodyBytes] += bytes;
  }

  // Body pieces: the first in the row, the others in #rest.

  #pieceAt(i: number): number {
    return i === 0 ? this.#row[this.#at + ROW.piece0At] : this.#rest![2 * i - 2];
  }

  #pieceLength(i: number): number {
    return i === 0 ? this.#row[this.#at + ROW.piece0Length] : this.#rest![2 * i - 1];
  }

  #setPiece(i: number, at: number, length: number): void {
    if (i === 0) {
      this.#row[this.#at + ROW.piece0At] = at;
      this.#row[this.#at + ROW.piece0Length] = length;
    } else {
      this.#rest![2 * i - 2] = at;
      this.#rest![2 * i - 1] = length;
    }
  }

  #pushPiece(at: number, length: number): void {
    const n = this.#row[this.#at + ROW.pieces];
    if (n === 0) this.#setPiece(0, at, length);
    else if (this.#rest === null) this.#rest = [at, length];
    else this.#rest.push(at, length);
    this.#row[this.#at + ROW.pieces] = n + 1;
  }

  #clearPieces(): void {
    this.#row[this.#at + ROW.pieces] = 0;
    this.#rest = null;
  }

  /**
   * A complete body keeps what it needs and no more: its list of pieces at its length (a
   * growing array keeps spare room), and the shared PLAIN_BODY when the filters left nothing.
   */
  compact(): void {
    if (this.#rest !== null) this.#rest = this.#rest.slice();
    const info = this.info;
    if (info !== PLAIN_BODY && !info.gzip && !info.changedEncoding && !info.esiOpen && info.esi === null && !info.esiGzip) this.info = PLAIN_BODY;
    // A plain body was the last thing a stored object's Rare held (the fetch's own BodyInfo):
    // kept, every cached object carried 190 B more of heap (a Rare and that BodyInfo).
    this.#trim();
  }

  /** obj.http: the stored headers, decoded (read-only by contract: VCL cannot set obj.http). */
  get http(): VclHttp {
    if (this.#http === null) {
      this.#http = decodeHeaderBlock(this.headerBlock());
      this.#slot = decodedHeads.remember(this);
    }
    return this.#http;
  }

  /** DecodedHeads: another object took this one's slot. */
  dropDecoded(): void {
    this.#slot = NO_SLOT;
    this.#hot = null;
    if (this.#headAt >= 0 || this.#block !== null) this.#http = null;
    this.#trim();
  }

  /** The stored header block: status line and header lines, as written (a copy when stored). */
  headerBlock(): Buffer {
    if (this.#headAt >= 0) return this.storage!.space!.read(this.#headAt, this.headerBytes);
    return this.#block ?? EMPTY;
  }

  // ------------------------------------------------------------------------------------------
  // Where the bytes are (the cache's side: stevedore placement)

  /** Body pieces so far. */
  get chunkCount(): number {
    return this.#row[this.#at + ROW.pieces];
  }

  /** Body piece i: the Buffer it arrived in, or a copy of the stored range (the caller's). */
  chunk(i: number): Buffer {
    // A hot copy is only ever made of a one-piece stored body.
    if (this.#hot !== null) return this.#hot;
    const at = this.#pieceAt(i);
    if (at < 0) return this.#bufs![ON_HEAP - at];
    const length = this.#pieceLength(i);
    if (length === 0) return EMPTY;
    const copy = this.storage!.space!.read(at, length);
    if (this.#slot !== NO_SLOT && length <= HOT_BYTES && this.chunkCount === 1 && this.state === 'done') this.#hot = copy;
    return copy;
  }

  /** The length of body piece i, without reading it. */
  chunkLength(i: number): number {
    const at = this.#pieceAt(i);
    return at < 0 ? this.#bufs![ON_HEAP - at].length : this.#pieceLength(i);
  }

  /**
   * Body piece i as stored, not copied: a view of the storage's memory (or the Buffer it
   * arrived in), valid while the object is pinned: the caller pins it first and unpins once
   * nothing holds the view any more (a socket has written it). A large body then goes out
   * without a second copy of it on the heap.
   */
  view(i: number): Buffer {
    const at = this.#pieceAt(i);
    if (at < 0) return this.#bufs![ON_HEAP - at];
    const length = this.#pieceLength(i);
    return length === 0 ? EMPTY : this.storage!.space!.view(at, length);
  }

  /** Every body piece so far as views (view(i)): the caller holds a pin. */
  get views(): Buffer[] {
    const out: Buffer[] = new Array(this.chunkCount);
    for (let i = 0; i < out.length; i++) out[i] = this.view(i);
    return out;
  }

  /** Every body piece so far (copies of stored ones): for the readers that want a list. */
  get chunks(): Buffer[] {
    const out: Buffer[] = new Array(this.chunkCount);
    for (let i = 0; i < out.length; i++) out[i] = this.chunk(i);
    return out;
  }

  /** Keeps a chunk as the Buffer it is (no storage space). */
  keepChunk(chunk: Buffer): void {
    this.#bufs ??= [];
    this.#pushPiece(ON_HEAP - this.#bufs.length, chunk.length);
    this.#bufs.push(chunk);
    this.#addBody(chunk.length);
  }

  /** Records a body piece of `length` bytes the storage placed at `at` (its bytes written). */
  keepStored(at: number, length: number): void {
    this.#pushPiece(at, length);
    this.#addBody(length);
  }

  /** The header block was placed at `at` in the storage's space (and written there). */
  storedHead(at: number): void {
    this.#headAt = at;
    this.#block = null;
    // The fetch's headers are not kept: a hit reads the block (header-block.ts), and whoever
    // reads obj.http decodes it again. Kept, they lived long enough to be promoted.
    this.#http = null;
    this.#trim();
  }

  /** The body given at construction, to be placed in storage: taken from the object. */
  takeBody(): Buffer[] {
    const bufs = this.#bufs ?? [];
    this.#bufs = null;
    this.#clearPieces();
    this.#row[this.#at + ROW.bodyBytes] = 0;
    return bufs;
  }

  /**
   * The object left the cache (or a private one its reader): its ranges go back through
   * `release`. A reader streaming it keeps them until it leaves (unpin); for one lent it in the
   * last LENT_SECONDS the bytes are first copied to the heap. Anyone else who still holds the
   * object finds its body failed, never another object's bytes.
   */
  unstore(now: number, release: (at: number, bytes: number) => void): void {
    if (this.#readers > 0) {
      this.#unstoreLater = true;
      return;
    }
    decodedHeads.forget(this, this.#slot);
    this.#slot = NO_SLOT;
    const keep = this.lends > 0 && now - this.lentAt < LENT_SECONDS;
    if (this.#headAt >= 0) {
      if (keep) this.#block = this.headerBlock();
      release(this.#headAt, this.headerBytes);
      this.#headAt = -1;
    }
    let stored = false;
    for (let i = 0, n = this.chunkCount; i < n; i++) {
      const at = this.#pieceAt(i);
      const length = this.#pieceLength(i);
      if (at < 0) continue;
      stored = true;
      if (keep) {
        this.#bufs ??= [];
        this.#setPiece(i, ON_HEAP - this.#bufs.length, length);
        this.#bufs.push(length === 0 ? EMPTY : this.storage!.space!.read(at, length));
      }
      if (length > 0) release(at, length);
    }
    if (stored && !keep) {
      this.#clearPieces();
      this.state = 'failed';
      this.#wake();
    }
  }

  /** A reader streams the body across turns: removal keeps its ranges until unpin(). */
  pin(): void {
    this.#readers++;
  }

  unpin(): void {
    if (--this.#readers !== 0) return;
    if (this.#unstoreLater) {
      this.#unstoreLater = false;
      const st = this.storage;
      if (st !== null) this.unstore(Date.now() / 1000, st.release);
    }
    this.#trim();
  }

  get status(): number {
    const status = storedStatus(this.headFacts);
    return status === STATUS_UNKNOWN ? this.http.status : status;
  }

  get reason(): string {
    if (ownReason(this.headFacts)) return statusReason(this.status);
    // Read from the block's status line while the head is not decoded: a hit decodes nothing.
    return this.#http !== null ? this.#http.reason : reasonOf(this.headerBlock());
  }

  /** What a hit needs to know of its stored head without decoding it (header-block.ts). */
  get headFacts(): HeadFacts {
    return this.#row[this.#at + ROW.head];
  }

  /** Copies the first `length` bytes of the stored header block to `out` at `at`. */
  copyHead(length: number, out: Uint8Array, at: number): void {
    const headAt = this.#headAt;
    if (headAt >= 0) this.storage!.space!.copyOut(headAt, length, out, at);
    else (this.#block ?? EMPTY).copy(out, at, 0, length);
  }

  /** Copies the body so far, piece after piece, to `out` at `at`. */
  copyBody(out: Uint8Array, at: number): void {
    for (let i = 0, n = this.chunkCount; i < n; i++) {
      const from = this.#pieceAt(i);
      if (from < 0) {
        const buf = this.#bufs![ON_HEAP - from];
        at += buf.copy(out, at);
        continue;
      }
      const length = this.#pieceLength(i);
      if (length > 0) this.storage!.space!.copyOut(from, length, out, at);
      at += length;
    }
  }

  /** The ETag header, for revalidation with If-None-Match. */
  get etag(): string | null {
    return this.http.get('ETag');
  }

  /** obj.can_esi: the body is parsed for ESI (and, once complete, was found to be XML). */
  get canEsi(): boolean {
    return this.info.esiOpen && (this.state === 'streaming' || this.info.esi !== null);
  }

  /** In the cache: committed (it has an id in the object table) and not removed since. */
  get cached(): boolean {
    return this.id !== NONE && !this.dying;
  }

  /** obj.uncacheable: true for hit-for-miss and hit-for-pass objects. */
  get uncacheable(): boolean {
    return this.kind !== 'normal';
  }

  /** Bytes counted against the cache's bound. */
  get size(): number {
    const row = this.#row;
    const at = this.#at;
    return OBJECT_OVERHEAD + row[at + ROW.headerBytes] + row[at + ROW.bodyBytes];
  }

  /** Fresh until this time. */
  get expires(): number {
    const row = this.#row;
    const at = this.#at;
    return row[at + ROW.origin] + row[at + ROW.ttl];
  }

  /** Gone from the cache at this time. */
  get endOfLife(): number {
    const row = this.#row;
    const at = this.#at;
    return row[at + ROW.origin] + row[at + ROW.ttl] + row[at + ROW.grace] + row[at + ROW.keep];
  }

  /** obj.ttl as VCL reads it: seconds of freshness left (negative when stale). */
  ttlLeft(now: number): number {
    return this.expires - now;
  }

  /** A lookup found it (obj.hits), at `now`. */
  lent(now: number, hit: boolean): void {
    const row = this.#row;
    const at = this.#at;
    if (hit) row[at + ROW.hits]++;
    // lend(now), written out: this is every hit's.
    row[at + ROW.lentAt] = Math.floor(now);
    row[at + ROW.lends]++;
  }

  /**
   * The result a lookup returns for a plain hit: a new one each time (it dies with the request,
   * young), so that a hit on a cold object makes nothing that outlives it.
   */
  get hitResult(): HitResult {
    return { kind: 'hit', obj: this };
  }

  // ------------------------------------------------------------------------------------------
  // Filling the body (the fetch side)

  append(chunk: Buffer): void {
    if (this.state !== 'streaming') throw new Error(`append to a ${this.state} object`);
    if (chunk.length === 0) return;
    if (this.owner !== null) this.owner.grew(this, chunk);
    else this.keepChunk(chunk);
    this.#wake();
  }

  /** The body is complete. */
  finish(): void {
    if (this.state !== 'streaming') return;
    this.state = 'done';
    this.compact();
    this.owner?.finished(this);
    this.#wake();
  }

  /** Its storage had no room: readers see a failed body, whatever had come of it. */
  storageFailed(): void {
    if (this.state === 'streaming') {
      this.fail();
      return;
    }
    this.state = 'failed';
    this.#wake();
  }

  /** The fetch broke off: readers see the body end early, the cache drops the object. */
  fail(): void {
    if (this.state !== 'streaming') return;
    this.state = 'failed';
    this.owner?.failed(this);
    this.#wake();
  }

  #wake(): void {
    const more = this.#more;
    if (more !== null) {
      this.#more = null;
      more.resolve();
      this.#trim();
    }
  }

  // ------------------------------------------------------------------------------------------
  // Reading the body (the deliver side)

  /**
   * Resolves once there are more than `have` chunks or the body has ended; at once when that is
   * already so. Every waiting reader shares one promise.
   */
  whenMore(have: number): Promise<void> {
    if (this.#private !== null && have > this.#private.released) this.#release(have);
    if (this.chunkCount > have || this.state !== 'streaming') return DONE;
    this.#more ??= Promise.withResolvers<void>();
    return this.#more.promise;
  }

  /**
   * The request that had it is done with it (delivered, dropped it, or the client left). A
   * private object's one reader: what it still holds is given back and a fetch still filling it
   * stops. A cached one: that request's lend is given back (giveBack).
   */
  readerDone(): void {
    const own = this.#private;
    if (own === null) {
      this.giveBack();
      return;
    }
    if (own.abandoned) return;
    own.abandoned = true;
    this.#release(this.chunkCount);
    this.owner?.left?.(this);
    this.#wakeRoom();
  }

  /** Whether a fetch filling a private object should wait for its reader before going on. */
  get full(): boolean {
    return this.#private !== null && !this.#private.abandoned && this.storedBytes > PRIVATE_BUFFER_BYTES;
  }

  /** A private object whose reader left: the fetch stops. */
  get abandoned(): boolean {
    return this.#private?.abandoned ?? false;
  }

  /** Resolves when the reader of a private object has taken some of it, or left. */
  whenRoom(): Promise<void> {
    if (!this.full) return DONE;
    const own = this.#private!;
    own.room ??= Promise.withResolvers<void>();
    return own.room.promise;
  }

  #release(upTo: number): void {
    let bytes = 0;
    let n = 0;
    const own = this.#private!;
    for (let i = own.released; i < upTo; i++) {
      const at = this.#pieceAt(i);
      const length = this.#pieceLength(i);
      bytes += length;
      if (at < 0) this.#bufs![ON_HEAP - at] = EMPTY;
      else if (length > 0) this.storage?.release(at, length);
      this.#setPiece(i, at, 0);
      n++;
    }
    own.released = upTo;
    this.owner?.released?.(this, bytes, n);
    this.#wakeRoom();
  }

  #wakeRoom(): void {
    const own = this.#private!;
    const room = own.room;
    if (room !== null && !this.full) {
      own.room = null;
      room.resolve();
    }
  }

  /** The body chunk by chunk, waiting for the ones still to come; stops early if the fetch fails. */
  async *read(): AsyncGenerator<Buffer, void, undefined> {
    let i = 0;
    this.pin();
    try {
      for (;;) {
        while (i < this.chunkCount) yield this.chunk(i++);
        if (this.state !== 'streaming') return;
        await this.whenMore(i);
      }
    } finally {
      this.unpin();
    }
  }
}
