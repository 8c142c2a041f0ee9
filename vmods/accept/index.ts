// The accept VMOD (see vmod.vcc): a rule object holding the accepted values and a fallback.

import type { VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodAccept } from './interface.ts';
import { parseAccept } from './parse.ts';

class Rule {
  readonly #fallback: string;
  /** The accepted values by their lower-case form: matching ignores case, as upstream's does. */
  readonly #accepted = new Map<string, string>();

  constructor(_ctx: VmodContext, _vclName: string, fallback: string | null) {
    this.#fallback = fallback ?? '';
  }

  add(_ctx: VmodContext, value: string | null): void {
    if (value !== null && !this.#accepted.has(value.toLowerCase())) this.#accepted.set(value.toLowerCase(), value);
  }

  remove(_ctx: VmodContext, value: string | null): void {
    if (value !== null) this.#accepted.delete(value.toLowerCase());
  }

  filter(_ctx: VmodContext, header: string | null): string {
    const items = header === null ? null : parseAccept(header);
    if (items === null) return this.#fallback;
    let best = this.#fallback;
    let bestQ = 0;
    for (const { value, q } of items) {
      const accepted = q > bestQ ? this.#accepted.get(value.toLowerCase()) : undefined;
      if (accepted !== undefined) {
        best = accepted;
        bestQ = q;
      }
    }
    return best;
  }
}
export { Rule as rule };

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodAccept;
