// The VCLs a running Shellac holds: loaded by name, one of them active, labels pointing at
// others. A request takes a reference on the VCL it starts with and finishes on it, so
// `use` is one reference swap and never disturbs requests in flight. A VCL that is neither
// active, labelled, nor referenced may be discarded; with state `auto` it cools down after
// `vcl_cooldown` seconds of disuse.

import { type LoadVclOptions, loadVcl, type VclEnv } from '../runtime/load-vcl.ts';
import type { LoadedVcl } from '../runtime/loaded-vcl.ts';

export type VclWantedState = 'auto' | 'warm' | 'cold';

export interface VclEntry {
  readonly name: string;
  readonly vcl: LoadedVcl;
  /** The label's target when this entry is a label; null for a real VCL. */
  target: VclEntry | null;
  state: VclWantedState;
  /** Requests running on it now. */
  busy: number;
  /** When it last stopped being used (seconds since the epoch), for the cooldown. */
  idleSince: number;
  /** The source text, for vcl.show. */
  readonly source: string;
}

export class VclError extends Error {
  override readonly name = 'VclError';
}

export interface VclRegistryOptions {
  readonly env: VclEnv;
  readonly vclPath: () => readonly string[];
  readonly vmodPath: () => readonly string[];
  /** Seconds an unused `auto` VCL stays warm. */
  readonly cooldown: () => number;
  readonly clock?: () => number;
}

const NAME = /^[A-Za-z][A-Za-z0-9_.-]*$/;

export class VclRegistry {
  readonly #opts: VclRegistryOptions;
  readonly #entries = new Map<string, VclEntry>();
  #active: VclEntry | null = null;
  #cooler: NodeJS.Timeout | null = null;

  constructor(opts: VclRegistryOptions) {
    this.#opts = opts;
  }

  get active(): LoadedVcl | null {
    return this.#active?.vcl ?? null;
  }

  get activeName(): string | null {
    return this.#active?.name ?? null;
  }

  entries(): readonly VclEntry[] {
    return [...this.#entries.values()];
  }

  get(name: string): VclEntry | undefined {
    return this.#entries.get(name);
  }

  /** The VCL a label (or a VCL name) resolves to, for `return (vcl(label))`. */
  resolveLabel(name: string): LoadedVcl | null {
    const e = this.#entries.get(name);
    if (e === undefined) return null;
    return (e.target ?? e).vcl;
  }

  /**
   * Compiles and loads a VCL under a new name; it becomes active when none is. Throws
   * VclError (a name in use) or the compiler's VclLoadError; nothing changes on failure.
   */
  async load(name: string, input: { file: string } | { source: string }, state: VclWantedState = 'auto'): Promise<VclEntry> {
    if (!NAME.test(name)) throw new VclError(`Illegal VCL name "${name}": letters, digits, '_', '.' and '-', starting with a letter`);
    if (this.#entries.has(name)) throw new VclError(`Already a VCL named ${name}`);
    const { readFile } = await import('node:fs/promises');
    const source = 'file' in input ? await readFile(input.file, 'utf8').catch(() => '') : input.source;
    const options: LoadVclOptions = {
      name,
      ...('file' in input ? { file: input.file } : { source: input.source }),
      vclPath: this.#opts.vclPath(),
      vmodPath: this.#opts.vmodPath(),
      warm: state !== 'cold',
      env: this.#opts.env,
    };
    const vcl = await loadVcl(options);
    const entry: VclEntry = { name, vcl, target: null, state, busy: 0, idleSince: this.#now(), source };
    this.#entries.set(name, entry);
    if (this.#active === null) this.#active = entry;
    this.#scheduleCooling();
    return entry;
  }

  /** Makes a loaded VCL (or a label) the one new requests use. */
  use(name: string): void {
    const e = this.#entries.get(name);
    if (e === undefined) throw new VclError(`No VCL named ${name} known.`);
    const real = e.target ?? e;
    if (real.vcl.temperature !== 'warm') real.vcl.warm();
    const old = this.#active;
    this.#active = e;
    if (old !== null && old !== e) old.idleSince = this.#now();
    this.#scheduleCooling();
  }

  /** `vcl.label LABEL NAME`. */
  label(label: string, name: string): void {
    const target = this.#entries.get(name);
    if (target === undefined) throw new VclError(`No VCL named ${name} known.`);
    if (target.target !== null) throw new VclError(`VCL labels cannot point to labels`);
    const existing = this.#entries.get(label);
    if (existing && existing.target === null) throw new VclError(`${label} is not a label`);
    if (target.vcl.temperature !== 'warm') target.vcl.warm();
    if (existing) existing.target = target;
    else this.#entries.set(label, { name: label, vcl: target.vcl, target, state: 'auto', busy: 0, idleSince: this.#now(), source: '' });
  }

  /** Discards a VCL that nothing uses: vcl_fini runs, its backends close. */
  discard(name: string): void {
    const e = this.#entries.get(name);
    if (e === undefined) throw new VclError(`No VCL named ${name} known.`);
    if (e === this.#active) throw new VclError(`Cannot discard active VCL ${name}`);
    if (e.target === null) {
      const labels = [...this.#entries.values()].filter((x) => x.target === e).map((x) => x.name);
      if (labels.length > 0) throw new VclError(`Cannot discard labeled VCL ${name} (labels: ${labels.join(', ')})`);
    }
    this.#entries.delete(name);
    if (e.target !== null) return;
    if (e.busy > 0) {
      // Requests still run on it: it goes once they are done.
      e.state = 'cold';
      return;
    }
    e.vcl.discard();
  }

  /** vcl.state NAME auto|warm|cold. */
  setState(name: string, state: VclWantedState): void {
    const e = this.#entries.get(name);
    if (e === undefined || e.target !== null) throw new VclError(`No VCL named ${name} known.`);
    if (state === 'cold') {
      if (e === this.#active) throw new VclError(`Cannot set the active VCL cold.`);
      if (e.vcl.holders.length > 0) throw new VclError(`VCL ${name} is held by: ${e.vcl.holders.join(', ')}`);
      e.state = 'cold';
      if (e.busy === 0 && e.vcl.temperature === 'warm') e.vcl.cold();
      return;
    }
    e.state = state;
    if (state === 'warm' && e.vcl.temperature !== 'warm') e.vcl.warm();
  }

  /** A request starts on the active VCL: returns it, referenced until `leave`. */
  enter(): VclEntry | null {
    const e = this.#active;
    if (e === null) return null;
    const real = e.target ?? e;
    real.busy++;
    return real;
  }

  leave(e: VclEntry): void {
    if (--e.busy > 0) return;
    e.idleSince = this.#now();
    if (!this.#entries.has(e.name) && e.vcl.temperature !== 'discarded') e.vcl.discard();
  }

  /** Cools every unused `auto` VCL whose cooldown has passed; discards nothing. */
  coolDown(now = this.#now()): void {
    const cooldown = this.#opts.cooldown();
    for (const e of this.#entries.values()) {
      if (e.target !== null || e.state !== 'auto' || e.busy > 0 || e.vcl.temperature !== 'warm') continue;
      if (this.#inUse(e) || e.vcl.holders.length > 0) continue;
      if (now - e.idleSince >= cooldown) e.vcl.cold();
    }
  }

  /** Discards every VCL (shutdown). */
  close(): void {
    if (this.#cooler) clearInterval(this.#cooler);
    this.#cooler = null;
    for (const e of this.#entries.values()) if (e.target === null && e.vcl.temperature !== 'discarded') e.vcl.discard();
    this.#entries.clear();
    this.#active = null;
  }

  #inUse(e: VclEntry): boolean {
    if (this.#active === e || this.#active?.target === e) return true;
    for (const x of this.#entries.values()) if (x.target === e) return true;
    return false;
  }

  #scheduleCooling(): void {
    if (this.#cooler !== null) return;
    this.#cooler = setInterval(() => this.coolDown(), 1000);
    this.#cooler.unref();
  }

  #now(): number {
    return (this.#opts.clock ?? (() => Date.now() / 1000))();
  }
}
