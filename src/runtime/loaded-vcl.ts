// A loaded VCL is a value: its compiled subs, backends, ACLs, VMOD object instances and PRIV
// state, and its temperature. The state machines call `run(sub, task)`; the admin side calls
// warm(), cold() and discard(). Lifecycle order follows Varnish 7.1 (vcc_compile.c's
// init/fini steps): LOAD and WARM events go to VMODs in import order, COLD and DISCARD in the
// opposite order, and a failing step undoes exactly the steps before it.
//
// Discarding (and undoing a failed vcl_init) runs: vcl_fini, object destructors (latest first;
// an object's destructor is its optional `[Symbol.dispose]()` method), PRIV_CALL frees, DISCARD
// events, PRIV_VCL frees, then the backends are released.

import type { SourceFile } from '../vcl/diagnostics.ts';
import { positionText } from '../vcl/diagnostics.ts';
import type { SubName } from '../vcl/spec.ts';
import type { GeneratedVcl } from '../vcl/codegen.ts';
import type { TBackend } from '../vcl/tir.ts';
import type { CompiledVcl } from './compiled-vcl.ts';
import {
  type BackendSpec,
  type Director,
  type PrivHolder,
  type VclEvent,
  type VmodEventContext,
  VmodFailure,
  type VmodFilter,
} from '../vmod/api.ts';
import { isBuiltinFilter } from './filter-defaults.ts';
import type { BoundVmod } from '../vmod/bind.ts';
import type { VclPlatform, VmodHandle, VmodPlatform } from '../vmod/platform.ts';
import { failAction, type VclAction } from './actions.ts';
import type { BackendFactory, VclBackend } from './backends.ts';
import { VclRuntimeError } from './errors.ts';
import { type TaskServices, type TaskVcl, VclTask } from './task.ts';

/** A pino-compatible logger: `(fields, message)`. */
export interface VclLogger {
  error(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
}

export type VclTemperature = 'cold' | 'warm' | 'discarded';

type SubFn = (t: VclTask) => VclAction | undefined | Promise<VclAction | undefined>;

/** A refused temperature change or a failed event; the message is the VMOD's or ours. */
export class VclStateError extends Error {
  override readonly name = 'VclStateError';
}

/** Everything the loader prepared; LoadedVcl takes ownership. */
export interface LoadedVclParts {
  readonly name: string;
  readonly compiled: CompiledVcl;
  readonly subs: Readonly<Record<string, SubFn>>;
  /** Every imported VMOD, in import order. */
  readonly vmods: readonly BoundVmod[];
  readonly backends: ReadonlyMap<string, VclBackend>;
  /** What makes the backends VMODs ask for at run time (the declared ones are made already). */
  readonly createBackend: BackendFactory;
  readonly privCall: readonly PrivHolder[];
  readonly privVcl: ReadonlyMap<string, PrivHolder>;
  /** Per VMOD: the key of its functions' PRIV_TASK and PRIV_TOP holders. */
  readonly vmodKeys: ReadonlyMap<string, object>;
  /** Filled by vcl_init as it creates objects. */
  readonly instances: [string, object][];
  readonly services: TaskServices;
  readonly logger?: VclLogger;
  /** The server's VMOD platform: this VCL's VMODs get their handles from it. */
  readonly platform: VmodPlatform;
}

export class LoadedVcl implements TaskVcl {
  readonly name: string;
  readonly compiled: CompiledVcl;
  readonly sources: readonly SourceFile[];
  readonly generated: GeneratedVcl;
  /** VCL labels its `return (vcl(label))` names. */
  readonly labels: readonly string[];
  readonly backends: ReadonlyMap<string, VclBackend>;
  /** What req.backend_hint starts as: the first backend declared. */
  readonly defaultBackend: Director | null;
  readonly #p: LoadedVclParts;
  readonly #subs: ReadonlyMap<string, SubFn>;
  #state: VclTemperature = 'cold';
  /** How many VMODs (with an event function) got LOAD and WARM successfully. */
  #loaded = 0;
  #warmed = 0;
  #initRan = false;
  readonly #holders: string[] = [];
  /** Backends VMODs made with newBackend and have not deleted. */
  readonly #dynamic = new Set<VclBackend>();
  /** What this VCL's VMODs made on the platform: handles, subscriptions, jobs, commands. */
  readonly #scope: VclPlatform;
  /** Body filters this VCL's VMODs added (VRT_AddFilter): named in beresp.filters, resp.filters. */
  readonly #filters = new Map<string, VmodFilter>();

  constructor(parts: LoadedVclParts) {
    this.#p = parts;
    this.#subs = new Map(Object.entries(parts.subs));
    this.name = parts.name;
    const c = parts.compiled;
    this.compiled = c;
    this.sources = c.sources;
    this.generated = { source: c.source, constants: c.constants, positions: c.positions, asyncSubs: new Set(c.asyncSubs), instances: c.instances };
    this.labels = c.labels;
    this.backends = parts.backends;
    const first = c.defaultBackend;
    this.defaultBackend = first === undefined ? null : (parts.backends.get(first) ?? null);
    this.#scope = parts.platform.scope(this);
  }

  /** Every VMOD this VCL imports (and those they require), in event order. */
  get vmods(): readonly BoundVmod[] {
    return this.#p.vmods;
  }

  vmodKey(name: string): object {
    return this.#p.vmodKeys.get(name) ?? NO_KEY;
  }

  /** The platform handle of an imported VMOD (VmodContext.vmod). */
  vmodHandle(name: string): VmodHandle | null {
    return this.#scope.handle(name);
  }

  /** A body filter a VMOD of this VCL added, by name. */
  filter(name: string): VmodFilter | undefined {
    return this.#filters.get(name);
  }

  /** VRT_AddFilter: a name is one filter's, built in or a VMOD's; a filter has a side at least. */
  #addFilter(f: VmodFilter): string | null {
    if (f.fetch === undefined && f.delivery === undefined) return `filter '${f.name}' has neither a fetch nor a delivery side`;
    if (isBuiltinFilter(f.name) || this.#filters.has(f.name)) return `filter '${f.name}' already exists`;
    this.#filters.set(f.name, f);
    return null;
  }

  /** Tells VMOD subscribers of a change in this VCL's life (the `vcl` server event). */
  #announce(change: 'loaded' | 'warm' | 'cold' | 'discarded'): void {
    const events = this.#p.platform.events;
    if (events.listening.vcl) events.emit('vcl', { vcl: this.name, change });
  }

  get temperature(): VclTemperature {
    return this.#state;
  }

  /** Who holds a reference that keeps this VCL from going cold (vcl.list shows them). */
  get holders(): readonly string[] {
    return this.#holders;
  }

  backend(name: string): Director | null {
    return this.backends.get(name) ?? null;
  }

  /** Every live backend of this VCL: the declared ones, then those VMODs made (n_backend, backend.list). */
  allBackends(): VclBackend[] {
    return [...this.backends.values(), ...this.#dynamic];
  }

  /** A backend a VMOD makes at run time; it follows this VCL's temperature from now on. */
  newBackend(spec: BackendSpec): Director {
    if (this.#state === 'discarded') throw new VmodFailure(`VCL '${this.name}' is discarded: no new backends`);
    const probeName = spec.probe?.name;
    const probe = probeName === undefined ? undefined : this.compiled.probes.find((p) => p.name === probeName);
    if (probeName !== undefined && probe === undefined) throw new VmodFailure(`no probe '${probeName}' in VCL '${this.name}'`);
    const decl: TBackend = {
      name: spec.name,
      pos: NO_POS,
      none: false,
      host: spec.host,
      port: spec.port,
      path: spec.path,
      hostHeader: spec.hostHeader,
      connectTimeout: spec.connectTimeout,
      firstByteTimeout: spec.firstByteTimeout,
      betweenBytesTimeout: spec.betweenBytesTimeout,
      maxConnections: spec.maxConnections,
      probe: probeName,
    };
    let backend: VclBackend;
    try {
      backend = this.#p.createBackend(decl, probe, this.name);
    } catch (e) {
      throw new VmodFailure(`cannot make backend ${spec.name}: ${(e as Error).message}`);
    }
    this.#dynamic.add(backend);
    if (this.#state === 'warm') backend.warm?.();
    return backend;
  }

  /** Retires a backend made by newBackend: requests in flight on it finish first. */
  deleteBackend(backend: Director): void {
    const b = backend as VclBackend;
    if (!this.#dynamic.delete(b)) return;
    if (b.retire) b.retire();
    else b.discard?.();
  }

  /** Whether `run(sub)` may return a Promise (the sub awaits an async VMOD function). */
  isAsync(sub: SubName): boolean {
    return this.generated.asyncSubs.has(sub);
  }

  /** `file:line:col` of a position index held in `task.at`. */
  positionText(at: number): string | undefined {
    const pos = this.generated.positions[at];
    return pos === undefined || pos.file < 0 ? undefined : positionText(pos, this.sources);
  }

  /**
   * Runs a built-in sub on a task and returns its action. Never throws: a runtime error (a
   * VclRuntimeError, a VMOD's failure, any exception) becomes a `fail` action carrying the
   * message and the VCL position, and is logged. Sets task.vcl, task.method and `now`; starts
   * a new hash for vcl_hash; gives req.backend_hint its default on first use.
   */
  run(sub: SubName, task: VclTask): VclAction | Promise<VclAction> {
    const fn = this.#subs.get(sub) as SubFn;
    if (task.vcl !== this) task.vcl = this;
    task.method = sub;
    task.enterSub();
    if (task.backendHint === undefined) task.backendHint = this.defaultBackend;
    if (sub === 'vcl_hash') task.resetHash();
    let result: VclAction | undefined | Promise<VclAction | undefined>;
    try {
      result = fn(task);
    } catch (e) {
      return this.#failed(sub, task, e);
    }
    if (result instanceof Promise) {
      return result.then(
        (r) => r ?? this.#noAction(sub),
        (e) => this.#failed(sub, task, e),
      );
    }
    return result ?? this.#noAction(sub);
  }

  #noAction(sub: string): VclAction {
    return failAction(`${sub} returned no action`);
  }

  #failed(sub: string, task: VclTask, e: unknown): VclAction {
    const err = e instanceof Error ? e : new Error(String(e));
    const ownPos = err instanceof VclRuntimeError ? err.pos : undefined;
    const where = ownPos ? positionText(ownPos, this.sources) : this.positionText(task.at);
    const expected = err instanceof VclRuntimeError || err instanceof VmodFailure;
    const message = expected ? err.message : `${err.name}: ${err.message}`;
    try {
      this.#p.logger?.error({ vcl: this.name, sub, xid: task.xid, where }, message);
    } catch {
      // A broken logger must not turn a failed request into a crash.
    }
    return failAction(message, where);
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** LOAD events, then vcl_init. On failure, undoes what ran and throws VclStateError. */
  async initialize(): Promise<void> {
    const failure = this.#scope.declare() ?? this.#sendForward('load');
    if (failure !== undefined) {
      this.#release();
      throw new VclStateError(failure);
    }
    this.#initRan = true;
    const task = new VclTask('housekeeping', this.#p.services);
    let r = await this.run('vcl_init', task);
    task.end();
    if (r.action === 'ok') {
      const made = new Set(this.#p.instances.map(([name]) => name));
      const mayBeNull = new Set(this.compiled.nullOkInstances);
      const missing = this.generated.instances.find((name) => !made.has(name) && !mayBeNull.has(name));
      if (missing !== undefined) r = failAction(`Object ${missing} not initialized`);
    }
    if (r.action !== 'ok') {
      const why = r.action === 'fail' && r.message ? `: ${r.message}${r.where ? ` (${r.where})` : ''}` : '';
      this.#release();
      throw new VclStateError(`VCL '${this.name}' failed initialization${why}`);
    }
    this.#announce('loaded');
  }

  warm(): void {
    if (this.#state === 'discarded') throw new VclStateError(`VCL '${this.name}' is discarded`);
    if (this.#state === 'warm') return;
    const failure = this.#sendForward('warm');
    if (failure !== undefined) throw new VclStateError(failure);
    this.#state = 'warm';
    for (const b of this.allBackends()) b.warm?.();
    this.#announce('warm');
  }

  /** Goes cold; refused while a VMOD holds the VCL. */
  cold(): void {
    if (this.#state !== 'warm') return;
    if (this.#holders.length > 0) {
      throw new VclStateError(`VCL '${this.name}' cannot go cold: held by ${[...new Set(this.#holders)].join(', ')}`);
    }
    this.#sendBackward('cold', this.#warmed);
    this.#warmed = 0;
    // A cold VCL's VMODs hear nothing and run no jobs until it warms again.
    this.#scope.cool();
    this.#state = 'cold';
    for (const b of this.allBackends()) b.cold?.();
    this.#announce('cold');
  }

  /** Cools the VCL if needed, runs vcl_fini and frees everything. */
  discard(): void {
    if (this.#state === 'discarded') return;
    this.cold();
    this.#release();
  }

  /** Takes a reference that keeps the VCL from going cold; call the result to release it. */
  hold(holder: string): () => void {
    this.#holders.push(holder);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const i = this.#holders.indexOf(holder);
      if (i >= 0) this.#holders.splice(i, 1);
    };
  }

  /** vcl_fini (when vcl_init ran), destructors, PRIV_CALL frees, DISCARD, PRIV_VCL frees. */
  #release(): void {
    const log = (what: string, e: unknown) => this.#p.logger?.error({ vcl: this.name }, `${what}: ${(e as Error).message}`);
    if (this.#initRan) {
      const task = new VclTask('housekeeping', this.#p.services);
      const r = this.run('vcl_fini', task);
      task.end();
      if (r instanceof Promise) r.catch((e) => log('vcl_fini', e));
    }
    for (const [name, instance] of [...this.#p.instances].reverse()) {
      const dispose = (instance as { [Symbol.dispose]?: () => void })[Symbol.dispose];
      try {
        dispose?.call(instance);
      } catch (e) {
        log(`destructor of ${name}`, e);
      }
    }
    this.#p.instances.length = 0;
    for (const holder of [...this.#p.privCall].reverse()) freeHolder(holder, log);
    this.#sendBackward('discard', this.#loaded);
    this.#loaded = 0;
    for (const vmod of [...this.#p.vmods].reverse()) {
      const holder = this.#p.privVcl.get(vmod.name);
      if (holder) freeHolder(holder, log);
    }
    this.#scope.release();
    for (const b of this.allBackends()) b.discard?.();
    this.#dynamic.clear();
    const wasLoaded = this.#initRan;
    this.#state = 'discarded';
    if (wasLoaded) this.#announce('discarded');
  }

  /**
   * Sends LOAD or WARM to each VMOD with an event function, in import order. On a failure,
   * sends DISCARD or COLD to the ones that succeeded and returns the message.
   */
  #sendForward(event: 'load' | 'warm'): string | undefined {
    const vmods = this.#eventVmods();
    for (let i = 0; i < vmods.length; i++) {
      const failure = this.#send(vmods[i], event);
      if (failure !== undefined) {
        this.#sendBackward(event === 'load' ? 'discard' : 'cold', i);
        if (event === 'load') this.#loaded = 0;
        else this.#warmed = 0;
        return failure;
      }
      if (event === 'load') this.#loaded = i + 1;
      else this.#warmed = i + 1;
    }
    return undefined;
  }

  /** Sends COLD or DISCARD to the first `count` VMODs with events, last first; never fails. */
  #sendBackward(event: 'cold' | 'discard', count: number): void {
    const vmods = this.#eventVmods().slice(0, count).reverse();
    for (const vmod of vmods) {
      const failure = this.#send(vmod, event);
      if (failure !== undefined) this.#p.logger?.error({ vcl: this.name, vmod: vmod.name, event }, failure);
    }
  }

  #eventVmods(): BoundVmod[] {
    return this.#p.vmods.filter((v) => v.event !== undefined);
  }

  /** One event to one VMOD; the failure message, or undefined when it went well. */
  #send(vmod: BoundVmod, event: VclEvent): string | undefined {
    let failMessage: string | undefined;
    // The VMOD's platform handle, with a way to fail this event.
    const ctx = Object.assign(Object.create(this.#scope.handle(vmod.name)) as VmodEventContext, {
      fail: (message: string) => {
        failMessage = message;
      },
      objects: this.#p.services.objects,
      addFilter: (f: VmodFilter) => this.#addFilter(f),
    });
    const holder = this.#p.privVcl.get(vmod.name) as PrivHolder;
    let rc: unknown;
    try {
      rc = (vmod.event as (c: VmodEventContext, p: PrivHolder, e: VclEvent) => unknown)(ctx, holder, event);
    } catch (e) {
      return `VMOD '${vmod.name}': ${event} event failed: ${(e as Error).message}`;
    }
    if (rc === 0 && failMessage === undefined) return undefined;
    return `VMOD '${vmod.name}': ${event} event failed${failMessage !== undefined ? `: ${failMessage}` : ` (returned ${String(rc)})`}`;
  }
}

/** The PRIV key of a VMOD no call site names (a required one): its own, never shared. */
const NO_KEY = Object.freeze({ vmod: null });

/** Where a backend made at run time was "declared": nowhere in the VCL text. */
const NO_POS = Object.freeze({ file: -1, line: 0, col: 0, offset: 0, length: 0 });

function freeHolder(holder: PrivHolder, log: (what: string, e: unknown) => void): void {
  const free = holder.free;
  holder.free = undefined;
  if (free === undefined || holder.priv === undefined) return;
  try {
    free(holder.priv);
  } catch (e) {
    log('PRIV free', e);
  }
}
