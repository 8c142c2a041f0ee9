// The VCLs a running Shellac holds: loaded by name, one of them active, labels pointing at
// others. A request takes a reference on the VCL it starts with and finishes on it, so
// `use` is one reference swap and never disturbs requests in flight. A VCL that is neither
// active, labelled, nor referenced may be discarded; with state `auto` it cools down after
// `vcl_cooldown` seconds of disuse, and with state `cold` as soon as nothing uses it.

import type { CompiledVcl } from '../runtime/compiled-vcl.ts';
import { instantiateVcl, loadVcl, type VclEnv } from '../runtime/load-vcl.ts';
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

/** A refused VCL command; `status` is the CLI status varnishd answers it with. */
export class VclError extends Error {
  override readonly name = 'VclError';
  /** 106: a bad name or argument; 300: the action is refused in the current state. */
  readonly status: 106 | 300;
  constructor(message: string, status: 106 | 300 = 106) {
    super(message);
    this.status = status;
  }
}

/** What the registry tells those who follow its VCLs (the counter registry, for VBE.*). */
export interface VclWatcher {
  loaded?(entry: VclEntry): void;
  /** The VCL is freed: discarded and no request runs on it any more. */
  discarded?(entry: VclEntry): void;
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

/** Refuses a name a VCL may not have (VclError), as varnishd does before it compiles. */
export function checkVclName(name: string): void {
  if (!NAME.test(name)) throw new VclError(`Illegal VCL name "${name}": letters, digits, '_', '.' and '-', starting with a letter`);
}

/** The refusal of a VCL whose `return (vcl(label))` names labels that do not exist (yet). */
export function unknownLabelsMessage(labels: readonly string[]): string {
  return `Message from VCC-compiler:\n${labels.map((l) => `Symbol not found: '${l}' (return (vcl(${l})) needs a VCL label of that name)`).join('\n')}\nVCL compilation failed`;
}

export class VclRegistry {
  readonly #opts: VclRegistryOptions;
  readonly #entries = new Map<string, VclEntry>();
  readonly #watchers = new Set<VclWatcher>();
  /** Discarded while requests still ran on them: freed after the last one leaves. */
  readonly #retiring = new Set<VclEntry>();
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

  /** VCLs discarded by name that still have requests running on them (vcl.list shows them). */
  retiring(): readonly VclEntry[] {
    return [...this.#retiring];
  }

  get(name: string): VclEntry | undefined {
    return this.#entries.get(name);
  }

  /** Follows loads and frees from now on; returns the unsubscribe. */
  watch(watcher: VclWatcher): () => void {
    this.#watchers.add(watcher);
    return () => this.#watchers.delete(watcher);
  }

  /** The VCL a label (or a VCL name) resolves to, for `return (vcl(label))`. */
  resolveLabel(name: string): LoadedVcl | null {
    const e = this.#entries.get(name);
    if (e === undefined) return null;
    return (e.target ?? e).vcl;
  }

  /** The loaded VCLs whose `return (vcl(label))` names this label. */
  dependents(label: string): string[] {
    const out: string[] = [];
    for (const e of this.#entries.values()) if (e.target === null && e.vcl.labels.includes(label)) out.push(e.name);
    return out;
  }

  /**
   * Compiles and loads a VCL under a new name; it becomes active when none is. Throws
   * VclError (a name in use, an unknown label) or the compiler's VclLoadError; nothing changes
   * on failure.
   */
  load(name: string, input: { file: string } | { source: string }, state: VclWantedState = 'auto'): Promise<VclEntry> {
    return this.#add(name, state, (warm) =>
      loadVcl({ name, ...input, vclPath: this.#opts.vclPath(), vmodPath: this.#opts.vmodPath(), warm, env: this.#opts.env }),
    );
  }

  /**
   * Loads a VCL compiled elsewhere (by `shellac serve`'s manager: this process need not load the
   * compiler), as `load` does.
   */
  loadCompiled(name: string, compiled: CompiledVcl, state: VclWantedState = 'auto'): Promise<VclEntry> {
    return this.#add(name, state, (warm) => instantiateVcl(compiled, { name, vmodPath: this.#opts.vmodPath(), warm, env: this.#opts.env }));
  }

  async #add(name: string, state: VclWantedState, make: (warm: boolean) => Promise<LoadedVcl>): Promise<VclEntry> {
    checkVclName(name);
    if (this.#taken(name)) throw new VclError(`Already a VCL named ${name}`);
    const vcl = await make(state !== 'cold');
    // Labels are names the compiler cannot know; they are checked here, as varnishd's
    // compiler checks them against the labels it is given.
    const unknown = vcl.labels.filter((l) => this.#entries.get(l)?.target == null);
    if (unknown.length > 0) {
      vcl.discard();
      throw new VclError(unknownLabelsMessage(unknown));
    }
    if (this.#taken(name)) {
      // Another load of the same name finished while this one compiled.
      vcl.discard();
      throw new VclError(`Already a VCL named ${name}`);
    }
    // vcl.show prints the top file as the compiler read it (its includes follow it in sources).
    const entry: VclEntry = { name, vcl, target: null, state, busy: 0, idleSince: this.#now(), source: vcl.sources[0]?.text ?? '' };
    this.#entries.set(name, entry);
    if (this.#active === null) this.#active = entry;
    this.#scheduleCooling();
    for (const w of this.#watchers) w.loaded?.(entry);
    return entry;
  }

  /** Makes a loaded VCL (or a label) the one new requests use. */
  use(name: string): void {
    const e = this.#entries.get(name);
    if (e === undefined) throw new VclError(`No VCL named ${name} known`);
    const real = e.target ?? e;
    if (real.vcl.temperature !== 'warm') real.vcl.warm();
    const old = this.#active;
    this.#active = e;
    const events = this.#opts.env.platform?.events;
    if (events?.listening.vcl) events.emit('vcl', { vcl: name, change: 'used' });
    if (old !== null && old !== e) {
      const oldReal = old.target ?? old;
      oldReal.idleSince = this.#now();
      if (oldReal.state === 'cold') this.#coolIfUnused(oldReal);
    }
    this.#scheduleCooling();
  }

  /** `vcl.label LABEL NAME`: makes a label, or points an existing one elsewhere. */
  label(label: string, name: string): void {
    if (!NAME.test(label)) throw new VclError(`Illegal VCL name "${label}"`);
    const target = this.#entries.get(name);
    if (target === undefined) throw new VclError(`No VCL named ${name} known`);
    if (target.target !== null) throw new VclError(`VCL labels cannot point to labels`);
    const existing = this.#entries.get(label);
    if (existing && existing.target === null) throw new VclError(`${label} is not a label`);
    if (target.vcl.temperature !== 'warm') target.vcl.warm();
    if (existing) {
      const before = existing.target;
      existing.target = target;
      if (before !== null && before !== target) before.idleSince = this.#now();
    } else {
      this.#entries.set(label, { name: label, vcl: target.vcl, target, state: 'auto', busy: 0, idleSince: this.#now(), source: '' });
    }
  }

  /** Discards a VCL or label that nothing uses: vcl_fini runs, its backends close. */
  discard(name: string): void {
    const e = this.#entries.get(name);
    if (e === undefined) throw new VclError(`No VCL named ${name} known`);
    if (e === this.#active) throw new VclError(`Cannot discard active VCL ${name}`, 300);
    if (e.target === null) {
      const labels = [...this.#entries.values()].filter((x) => x.target === e).map((x) => x.name);
      if (labels.length > 0) throw new VclError(`Cannot discard labeled VCL ${name}, labels: ${labels.join(', ')}`, 300);
    } else {
      const users = this.dependents(name);
      if (users.length > 0) throw new VclError(`Cannot discard VCL label ${name}, other VCLs depend on it: ${users.join(', ')}`, 300);
    }
    this.#entries.delete(name);
    if (e.target !== null) {
      e.target.idleSince = this.#now();
      return;
    }
    // Requests still running on it finish first: `leave` frees it after the last one.
    if (e.busy > 0) this.#retiring.add(e);
    else this.#free(e);
  }

  /** vcl.state NAME auto|warm|cold. */
  setState(name: string, state: VclWantedState): void {
    const e = this.#entries.get(name);
    if (e === undefined) throw new VclError(`No VCL named ${name} known`);
    if (e.target !== null) throw new VclError(`Labels are always warm`);
    if (state === 'cold') {
      if (e === this.#active) throw new VclError(`Cannot set the active VCL cold.`, 300);
      if ([...this.#entries.values()].some((x) => x.target === e)) throw new VclError(`A labeled VCL cannot be set cold`, 300);
      const holders = e.vcl.holders;
      if (holders.length > 0) throw new VclError(`VCL ${name} cannot go cold, it is held by:\n\t${[...new Set(holders)].join('\n\t')}`, 300);
      e.state = 'cold';
      this.#coolIfUnused(e);
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

  /**
   * Another reference on a VCL a request already runs on: a backend fetch takes its own, so
   * that the VCL outlives the client that started the fetch. Given back with `leave`.
   */
  hold(e: VclEntry): VclEntry {
    e.busy++;
    return e;
  }

  /**
   * `return (vcl(label))`: moves a request's reference from the VCL it runs on to the label's
   * target, so that target cannot cool or go while the request runs on it even if the label
   * moves. Returns the target (the request must `leave` it instead), or null when there is no
   * such label (the request keeps its reference).
   */
  switchTo(from: VclEntry, label: string): VclEntry | null {
    const l = this.#entries.get(label);
    const target = l?.target ?? null;
    if (target === null) return null;
    target.busy++;
    this.leave(from);
    return target;
  }

  leave(e: VclEntry): void {
    if (--e.busy > 0) return;
    // The active VCL does not cool (use() starts its clock when another takes over): no clock
    // read on every request that leaves it idle.
    const active = this.#active;
    if (e !== active && e !== active?.target) e.idleSince = this.#now();
    if (this.#retiring.has(e)) {
      this.#retiring.delete(e);
      this.#free(e);
    } else if (e.state === 'cold') {
      this.#coolIfUnused(e);
    }
  }

  /**
   * Cools every unused VCL whose state asks for it: `auto` ones once `vcl_cooldown` has passed
   * since their last use, `cold` ones at once. A VCL a VMOD holds stays warm. Discards nothing.
   */
  coolDown(now = this.#now()): void {
    const cooldown = this.#opts.cooldown();
    for (const e of this.#entries.values()) {
      if (e.target !== null || e.state === 'warm') continue;
      if (e.state === 'auto' && now - e.idleSince < cooldown) continue;
      this.#coolIfUnused(e);
    }
  }

  /** Discards every VCL (shutdown). */
  close(): void {
    if (this.#cooler) clearInterval(this.#cooler);
    this.#cooler = null;
    for (const e of [...this.#entries.values(), ...this.#retiring]) if (e.target === null && e.vcl.temperature !== 'discarded') e.vcl.discard();
    this.#entries.clear();
    this.#retiring.clear();
    this.#active = null;
  }

  #taken(name: string): boolean {
    if (this.#entries.has(name)) return true;
    for (const e of this.#retiring) if (e.name === name) return true;
    return false;
  }

  #free(e: VclEntry): void {
    if (e.vcl.temperature !== 'discarded') e.vcl.discard();
    for (const w of this.#watchers) w.discarded?.(e);
  }

  #coolIfUnused(e: VclEntry): void {
    if (e.busy > 0 || e.vcl.temperature !== 'warm' || e.vcl.holders.length > 0 || this.#inUse(e)) return;
    e.vcl.cold();
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
    const clock = this.#opts.clock;
    return clock === undefined ? Date.now() / 1000 : clock();
  }
}
