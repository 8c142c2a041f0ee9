// Backends as a loaded VCL sees them. The VCL's `backend` declarations are turned into
// Directors by a factory the process injects (the proxy's real backends, with connection pools
// and health probes); a VCL tells each backend when it goes warm or cold, and when it is
// discarded. The in-memory backend here is what the runtime uses without a proxy: tests,
// `shellac check`, benchmarks.

import type { Director, VmodContext } from '../vmod/api.ts';
import type { TBackend, TProbe } from '../vcl/tir.ts';

/** A backend of a loaded VCL: a Director told about its VCL's temperature. */
export interface VclBackend extends Director {
  /** The VCL went warm: start health probes. */
  warm?(): void;
  /** The VCL went cold: stop probes, close idle connections. */
  cold?(): void;
  /** The VCL is discarded: release everything. */
  discard?(): void;
  /**
   * A VMOD deleted this backend while its VCL lives on: stop probing and taking new work, let
   * fetches in flight finish, then release. Without it, discard() is called instead.
   */
  retire?(): void;
}

/**
 * Makes the backend a VCL declares. `probe` is its probe (named or inline), if any; `vclName`
 * lets counters and logs name it as Varnish does (`vcl.backend`).
 */
export type BackendFactory = (backend: TBackend, probe: TProbe | undefined, vclName: string) => VclBackend;

/**
 * A backend that fetches nothing: healthy unless declared `none` or marked sick, resolving to
 * itself. It records temperature changes so tests can see them.
 */
export class MemoryBackend implements VclBackend {
  readonly name: string;
  readonly type = 'backend';
  readonly declaration: TBackend;
  readonly probe: TProbe | undefined;
  sick: boolean;
  /** 'warm', 'cold', 'discard' in the order they came. */
  readonly events: string[] = [];
  changed = 0;

  constructor(declaration: TBackend, probe?: TProbe) {
    this.name = declaration.name;
    this.declaration = declaration;
    this.probe = probe;
    this.sick = declaration.none;
  }

  healthy(_ctx: VmodContext | null): boolean {
    return !this.sick;
  }

  resolve(_ctx: VmodContext): Director | null {
    return this;
  }

  warm(): void {
    this.events.push('warm');
  }

  cold(): void {
    this.events.push('cold');
  }

  discard(): void {
    this.events.push('discard');
  }

  retire(): void {
    this.events.push('retire');
  }
}

export const memoryBackends: BackendFactory = (backend, probe) => new MemoryBackend(backend, probe);
