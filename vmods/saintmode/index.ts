// The saintmode VMOD (see vmod.vcc). Each saintmode object is a director wrapping one backend,
// with a list of (object hash, until when) it is sick for; PRIV_VCL lists the VCL's saintmode
// objects, so blacklist() finds the one wrapping the backend that answered the fetch.

import type { Director, PrivHolder, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodSaintmode } from './interface.ts';

type Saints = Saintmode[];

/** Subs where no object is known yet: the hash is made after vcl_recv, by vcl_hash. */
const NO_OBJECT_YET = new Set<string | null>([null, 'vcl_init', 'vcl_fini', 'vcl_recv', 'vcl_hash']);

/** The object of this task (req.hash, bereq.hash) as a string key; null before there is one. */
function objectOf(ctx: VmodContext | null): string | null {
  if (ctx === null || NO_OBJECT_YET.has(ctx.method) || ctx.hashDigest === undefined) return null;
  return Buffer.from(ctx.hashDigest()).toString('hex');
}

class Saintmode implements Director {
  readonly name: string;
  readonly type = 'saintmode';
  readonly #backend: Director | null;
  readonly #threshold: number;
  /** Blacklisted objects: hash → until when (seconds since the epoch). */
  readonly #trouble = new Map<string, number>();

  constructor(ctx: VmodContext, vclName: string, vcl: PrivHolder<Saints>, backend: Director | null, threshold: number) {
    if (backend === null) ctx.fail(`saintmode.saintmode(): ${vclName} needs a backend`);
    this.name = vclName;
    this.#backend = backend;
    this.#threshold = threshold;
    vcl.priv ??= [];
    vcl.priv.push(this);
  }

  get wrapped(): Director | null {
    return this.#backend;
  }

  get count(): number {
    return this.#trouble.size;
  }

  get threshold(): number {
    return this.#threshold;
  }

  add(object: string, until: number): void {
    this.#trouble.set(object, until);
  }

  healthy(ctx: VmodContext | null): boolean {
    const inner = this.#backend;
    if (inner === null) return false;
    const object = objectOf(ctx);
    if (object === null || this.#threshold <= 0 || this.#trouble.size === 0) return inner.healthy(ctx);
    const now = ctx!.now;
    for (const [key, until] of this.#trouble) if (until < now) this.#trouble.delete(key);
    if (this.#trouble.has(object)) {
      ctx!.log(`saintmode: unhealthy: object blacklisted for backend ${inner.name}`);
      return false;
    }
    if (this.#trouble.size >= this.#threshold) {
      ctx!.log(`saintmode: unhealthy: hit threshold for backend ${inner.name}`);
      return false;
    }
    return inner.healthy(ctx);
  }

  resolve(ctx: VmodContext): Director | null {
    return this.healthy(ctx) ? (this.#backend?.resolve(ctx) ?? null) : null;
  }

  backend(_ctx: VmodContext): Director {
    return this;
  }

  blacklist_count(_ctx: VmodContext): number {
    return this.#trouble.size;
  }

  is_healthy(ctx: VmodContext): boolean {
    return this.healthy(ctx);
  }
}
export { Saintmode as saintmode };

export function blacklist(ctx: VmodContext, vcl: PrivHolder<Saints>, expires: number): void {
  if (vcl.priv === undefined) {
    ctx.log('saintmode.blacklist(): Saintmode is not configured');
    return;
  }
  if (ctx.method !== 'vcl_backend_response') {
    ctx.log('saintmode.blacklist() called outside of vcl_backend_response');
    return;
  }
  const used = ctx.berespBackend ?? null;
  const sm = vcl.priv.find((s) => s.wrapped === used);
  const object = objectOf(ctx);
  if (sm === undefined || object === null) {
    ctx.log('Error: saintmode.blacklist(): Saintmode not configured for this backend.');
    return;
  }
  sm.add(object, ctx.now + expires);
  ctx.log(`saintmode: object put on blacklist for backend ${used?.name} for ${expires.toFixed(2)} seconds`);
}

/** The JSON upstream prints, spacing included. */
export function status(_ctx: VmodContext, vcl: PrivHolder<Saints>): string {
  const rows = (vcl.priv ?? []).map(
    (s) => `\t\t{ "name": ${JSON.stringify(s.name)}, "backend": ${JSON.stringify(s.wrapped?.name ?? '')}, "count": "${s.count}", "threshold": "${s.threshold}" }`,
  );
  return `{\n\t"saintmode": [\n${rows.join(',\n')}${rows.length > 0 ? '\n' : ''}\t]\n}\n`;
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodSaintmode<{ vcl: Saints }>;
