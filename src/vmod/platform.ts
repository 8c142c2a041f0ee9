// The VMOD platform of one server: what VMODs get beyond calls from VCL. One VmodPlatform per
// running Shellac holds what lives as long as the process (each VMOD's `$Counter`s and memory
// account, the worker pools, the server events, the VMOD parameters in the live Params); one
// VclPlatform per loaded VCL holds what that VCL's VMODs made (their handles, subscriptions,
// jobs, instance counters and admin commands) and ends it with the VCL:
//
//   LOAD    declare(): parameters declared (a bad -p value fails the load), commands added
//   COLD    cool(): subscriptions and parameter listeners end, jobs are cancelled
//   DISCARD release(): commands and instance counters go
//
// Management reads counters through counterSections() and serves commands through the sink
// it attaches; neither side reaches into the other.

import { Params } from '../common/params.ts';
import type { BackendSpec, Director } from './api.ts';
import type { JobHandle, MemoryAccount, VmodCommandHandler, VmodHousekeeping, WorkerPool, WorkerPoolOptions } from './api-platform.ts';
import type { BoundVmod } from './bind.ts';
import { type EventPayload, type ServerEventName, ServerEvents } from './events.ts';
import type { VmodCounter, VmodManifest } from './manifest.ts';
import { paramDeclOf } from './vcc-platform.ts';
import { PoolClass } from './worker-pool.ts';

type Logger = {
  error(fields: Record<string, unknown>, message: string): void;
  info?(fields: Record<string, unknown>, message: string): void;
};

export interface PlatformOptions {
  /** The live parameters: VMOD parameters are declared in them. A private set by default. */
  readonly params?: Params;
  /**
   * What handle.param() reads: the live Params' values by default; a VCL loaded without a
   * server reads the parameter values its task services were given.
   */
  readonly values?: Readonly<Record<string, unknown>>;
  readonly logger?: Logger;
  readonly events?: ServerEvents;
  /** Adds a ban for housekeeping contexts; refused when absent. */
  readonly ban?: (expression: string) => string | null;
  /** Purges by URL and host (the builtin vcl_hash's inputs); nothing when absent. */
  readonly purge?: (url: string, host: string, options?: { ttl?: number; grace?: number; keep?: number }) => number;
  /** The name of the active VCL: its VMOD's handler serves a command several VCLs declare. */
  readonly activeVcl?: () => string | null;
}

/** One group of VMOD counters as the counter registry shows it: `<section>[.<ident>].<name>`. */
export interface CounterSection {
  readonly section: string;
  readonly ident: string;
  readonly decls: readonly Pick<VmodCounter, 'name' | 'type' | 'doc'>[];
  readonly source: Readonly<Record<string, number>>;
}

/** A VMOD command as the admin server serves it. */
export interface PlatformCommand {
  readonly syntax: string;
  readonly help: string;
  run(args: readonly string[], json: boolean): Promise<unknown>;
}

export interface CommandSink {
  register(name: string, cmd: PlatformCommand): void;
  unregister(name: string): void;
}

/** Counters of the platform itself, shown as VMOD.<name>. */
const PLATFORM_COUNTERS = [
  { name: 'events_delivered', type: 'counter', doc: 'Server events handed to VMOD subscribers' },
  { name: 'events_failed', type: 'counter', doc: 'Server event handlers that threw or rejected' },
  { name: 'jobs_run', type: 'counter', doc: 'VMOD jobs run (timed and recurring)' },
  { name: 'jobs_failed', type: 'counter', doc: 'VMOD jobs that threw or rejected' },
] as const;

interface CommandReg {
  readonly vcl: string;
  readonly handle: VmodHandle;
  readonly handler: VmodCommandHandler;
}

export class VmodPlatform {
  readonly events: ServerEvents;
  readonly params: Params;
  readonly values: Readonly<Record<string, unknown>>;
  readonly logger: Logger | undefined;
  readonly #opts: PlatformOptions;
  readonly #counters = new Map<string, { decls: VmodCounter[]; source: Record<string, number> }>();
  /** Instance counter sections of every live VCL. */
  readonly instanceSections = new Set<CounterSection>();
  readonly #commands = new Map<string, CommandReg[]>();
  #sink: CommandSink | undefined;
  readonly #memory = new Map<string, { bytes: number }>();
  readonly #pools = new Map<string, PoolClass>();
  readonly stats = { jobs_run: 0, jobs_failed: 0 };
  #closing = false;

  constructor(opts: PlatformOptions = {}) {
    this.#opts = opts;
    this.params = opts.params ?? new Params();
    this.values = opts.values ?? this.params.values;
    this.logger = opts.logger;
    this.events = opts.events ?? new ServerEvents(opts.logger);
  }

  /** Every VMOD counter now: the platform's, each VMOD's, each instance's. */
  counterSections(): CounterSection[] {
    const events = this.events.counters;
    const own = { ...events, ...this.stats };
    const out: CounterSection[] = [{ section: 'VMOD', ident: '', decls: PLATFORM_COUNTERS, source: own }];
    for (const [module, c] of this.#counters) out.push({ section: module.toUpperCase(), ident: '', decls: c.decls, source: c.source });
    out.push(...this.instanceSections);
    return out;
  }

  /** The process-wide `$Counter`s of a VMOD; a reload that adds counters adds them here. */
  countersOf(manifest: VmodManifest): Record<string, number> {
    let c = this.#counters.get(manifest.name);
    if (c === undefined) {
      c = { decls: [], source: {} };
      this.#counters.set(manifest.name, c);
    }
    for (const d of manifest.counters) {
      if (Object.hasOwn(c.source, d.name)) continue;
      c.decls.push(d);
      c.source[d.name] = 0;
    }
    return c.source;
  }

  memoryOf(module: string): { bytes: number } {
    let m = this.#memory.get(module);
    if (m === undefined) {
      m = { bytes: 0 };
      this.#memory.set(module, m);
    }
    return m;
  }

  /** Each VMOD's accounted bytes, for the `memory` command. */
  memoryReport(): { vmod: string; bytes: number; limit: number | null }[] {
    return [...this.#memory].map(([vmod, m]) => ({ vmod, bytes: m.bytes, limit: this.#limitOf(vmod) }));
  }

  #limitOf(module: string): number | null {
    const v = (this.params.values as Readonly<Record<string, unknown>>)[`${module}.max_memory`];
    return typeof v === 'number' ? v : null;
  }

  /** Whether a reservation fits the VMOD's max_memory. */
  fits(module: string, bytes: number): boolean {
    const limit = this.#limitOf(module);
    return limit === null || this.memoryOf(module).bytes + bytes <= limit;
  }

  /** Serves VMOD commands through `sink` from now on (those declared so far included). */
  attachCommands(sink: CommandSink): () => void {
    this.#sink = sink;
    for (const name of this.#commands.keys()) sink.register(name, this.#command(name));
    return () => {
      for (const name of this.#commands.keys()) sink.unregister(name);
      this.#sink = undefined;
    };
  }

  addCommand(name: string, reg: CommandReg): void {
    const regs = this.#commands.get(name) ?? [];
    regs.push(reg);
    this.#commands.set(name, regs);
    if (regs.length === 1) this.#sink?.register(name, this.#command(name));
  }

  removeCommand(name: string, reg: CommandReg): void {
    const regs = (this.#commands.get(name) ?? []).filter((r) => r !== reg);
    if (regs.length > 0) {
      this.#commands.set(name, regs);
      return;
    }
    this.#commands.delete(name);
    this.#sink?.unregister(name);
  }

  #command(name: string): PlatformCommand {
    const first = this.#commands.get(name)![0];
    const [module, short] = name.split('.');
    const decl = first.handle.manifest.commands.find((c) => c.name === short);
    return {
      syntax: `${name}${decl?.usage ? ` ${decl.usage}` : ''}`,
      help: decl?.doc || `A command of the ${module} VMOD.`,
      run: async (args, json) => {
        const regs = this.#commands.get(name) ?? [];
        const active = this.#opts.activeVcl?.();
        const reg = regs.find((r) => r.vcl === active) ?? regs[regs.length - 1];
        if (reg === undefined) throw new Error(`${name}: no loaded VCL imports ${module}`);
        const ctx = Object.assign(Object.create(reg.handle) as VmodHandle, { json });
        return reg.handler(ctx as unknown as Parameters<VmodCommandHandler>[0], args);
      },
    };
  }

  /** The worker pool of a job class, made on first use with these limits. */
  pool(jobClass: string, opts: WorkerPoolOptions): WorkerPool {
    if (this.#closing) throw new Error('the server is stopping: no new worker pools');
    let p = this.#pools.get(jobClass);
    if (p === undefined) {
      p = new PoolClass(jobClass, opts);
      this.#pools.set(jobClass, p);
    }
    return p;
  }

  ban(expression: string): string | null {
    return this.#opts.ban?.(expression) ?? 'bans are not available here';
  }

  purge(url: string, host: string, options?: { ttl?: number; grace?: number; keep?: number }): number {
    return this.#opts.purge?.(url, host, options) ?? 0;
  }

  /**
   * At shutdown: skip-on-shutdown work is dropped, the rest gets `timeoutMs` to finish, then
   * the worker threads end.
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    await Promise.all([...this.#pools.values()].map((p) => p.close(timeoutMs)));
    this.#pools.clear();
  }

  /** The platform side of one loaded VCL. */
  scope(vcl: ScopeVcl): VclPlatform {
    return new VclPlatform(this, vcl);
  }
}

/** What a VclPlatform needs of its LoadedVcl. */
export interface ScopeVcl {
  readonly name: string;
  readonly vmods: readonly BoundVmod[];
  /** The key of a VMOD's function PRIV_TASK/PRIV_TOP holders in this VCL. */
  vmodKey(name: string): object;
  hold(holder: string): () => void;
  newBackend(spec: BackendSpec): Director;
  deleteBackend(backend: Director): void;
}

export class VclPlatform {
  readonly platform: VmodPlatform;
  readonly vcl: ScopeVcl;
  readonly #handles = new Map<string, VmodHandle>();
  /** What ends at COLD: subscriptions, parameter listeners, jobs. */
  readonly cooling = new Set<() => void>();
  /** What ends at DISCARD. */
  readonly #releasing: (() => void)[] = [];

  constructor(platform: VmodPlatform, vcl: ScopeVcl) {
    this.platform = platform;
    this.vcl = vcl;
    for (const v of vcl.vmods) this.#handles.set(v.name, new VmodHandle(this, v.manifest, vcl.vmodKey(v.name)));
  }

  handle(name: string): VmodHandle | null {
    return this.#handles.get(name) ?? null;
  }

  /** LOAD: each VMOD's parameters and commands. Returns the failure, or undefined. */
  declare(): string | undefined {
    for (const v of this.vcl.vmods) {
      for (const p of v.manifest.params) {
        try {
          this.platform.params.declare(paramDeclOf(v.name, p));
        } catch (e) {
          return `VMOD '${v.name}': parameter ${v.name}.${p.name}: ${(e as Error).message}`;
        }
      }
    }
    for (const v of this.vcl.vmods) {
      const handle = this.#handles.get(v.name)!;
      for (const c of v.manifest.commands) {
        const handler = v.commands.get(c.name) as VmodCommandHandler | undefined;
        if (handler === undefined) continue;
        const name = `${v.name}.${c.name}`;
        const reg = { vcl: this.vcl.name, handle, handler };
        this.platform.addCommand(name, reg);
        this.#releasing.push(() => this.platform.removeCommand(name, reg));
      }
    }
    return undefined;
  }

  /** COLD: subscriptions and listeners end, jobs are cancelled. */
  cool(): void {
    for (const end of [...this.cooling]) end();
    this.cooling.clear();
  }

  /** DISCARD (or a failed load): everything the VCL's VMODs made goes. */
  release(): void {
    this.cool();
    for (const end of this.#releasing.splice(0).reverse()) end();
  }

  onRelease(fn: () => void): void {
    this.#releasing.push(fn);
  }
}

/** One VMOD's handle in one VCL: the VmodHousekeeping every context outside a request is. */
export class VmodHandle implements VmodHousekeeping {
  readonly module: string;
  readonly manifest: VmodManifest;
  readonly counters: Record<string, number>;
  readonly memory: MemoryAccount;
  readonly privKey: object;
  // Plain fields, not #private: contexts are made with Object.create(handle), and a #field is
  // not found through a prototype.
  private readonly scope: VclPlatform;
  private readonly instances = new Map<string, Record<string, number>>();

  constructor(scope: VclPlatform, manifest: VmodManifest, privKey: object) {
    this.scope = scope;
    this.privKey = privKey;
    this.module = manifest.name;
    this.manifest = manifest;
    const platform = scope.platform;
    this.counters = platform.countersOf(manifest);
    const account = platform.memoryOf(manifest.name);
    const module = manifest.name;
    this.memory = {
      reserve: (bytes) => {
        if (!(bytes >= 0) || !platform.fits(module, bytes)) return false;
        account.bytes += bytes;
        return true;
      },
      release: (bytes) => {
        account.bytes = Math.max(0, account.bytes - Math.max(0, bytes));
      },
      get bytes() {
        return account.bytes;
      },
    };
  }

  get vclName(): string {
    return this.scope.vcl.name;
  }

  log(message: string): void {
    this.scope.platform.logger?.info?.({ vcl: this.vclName, vmod: this.module }, message);
  }

  param(name: string): unknown {
    return this.scope.platform.values[name];
  }

  own(name: string): never {
    return this.param(`${this.module}.${name}`) as never;
  }

  onParamChange(name: string, fn: (value: unknown) => void): () => void {
    const full = `${this.module}.${name}`;
    const off = this.scope.platform.params.onChange((changed) => {
      if (changed !== full) return;
      try {
        fn(this.param(full));
      } catch (e) {
        this.scope.platform.logger?.error({ vmod: this.module, param: full }, `parameter listener failed: ${(e as Error).message}`);
      }
    });
    return this.untilCold(off);
  }

  instanceCounters(instance: string): Record<string, number> {
    let c = this.instances.get(instance);
    if (c !== undefined) return c;
    c = Object.fromEntries(this.manifest.counters.map((d) => [d.name, 0]));
    const section: CounterSection = { section: this.module.toUpperCase(), ident: instance, decls: this.manifest.counters, source: c };
    const sections = this.scope.platform.instanceSections;
    sections.add(section);
    this.scope.onRelease(() => sections.delete(section));
    this.instances.set(instance, c);
    return c;
  }

  subscribe(event: ServerEventName, version: number, handler: (payload: EventPayload) => void | Promise<void>): () => void {
    const off = this.scope.platform.events.subscribe({ event, version, handler, owner: `${this.module} (VCL ${this.vclName})` });
    return this.untilCold(off);
  }

  after(seconds: number, fn: (ctx: VmodHousekeeping) => void | Promise<void>): JobHandle {
    return this.job(seconds, fn, false);
  }

  every(seconds: number, fn: (ctx: VmodHousekeeping) => void | Promise<void>): JobHandle {
    return this.job(seconds, fn, true);
  }

  pool(jobClass: string, opts: WorkerPoolOptions): WorkerPool {
    return this.scope.platform.pool(jobClass, opts);
  }

  ban(expression: string): string | null {
    return this.scope.platform.ban(expression);
  }

  purge(url: string, host: string, options?: { ttl?: number; grace?: number; keep?: number }): number {
    return this.scope.platform.purge(url, host, options);
  }

  newBackend(spec: BackendSpec): Director {
    return this.scope.vcl.newBackend(spec);
  }

  deleteBackend(backend: Director): void {
    this.scope.vcl.deleteBackend(backend);
  }

  /** Keeps the VCL from going cold while background work runs (see VmodEventContext.hold). */
  hold(holder: string): () => void {
    return this.scope.vcl.hold(holder);
  }

  /** Registers an end for COLD; the returned function ends it early (and only once). */
  private untilCold(end: () => void): () => void {
    let done = false;
    const once = () => {
      if (done) return;
      done = true;
      this.scope.cooling.delete(once);
      end();
    };
    this.scope.cooling.add(once);
    return once;
  }

  private job(seconds: number, fn: (ctx: VmodHousekeeping) => void | Promise<void>, repeat: boolean): JobHandle {
    if (!(seconds >= 0) || !Number.isFinite(seconds)) throw new RangeError(`a job's delay must be a number of seconds, not ${seconds}`);
    const platform = this.scope.platform;
    let timer: NodeJS.Timeout | undefined;
    const job = {
      cancelled: false,
      cancel: () => {
        job.cancelled = true;
        if (timer !== undefined) clearTimeout(timer);
        stop();
      },
    };
    const stop = this.untilCold(() => job.cancel());
    const fire = async (): Promise<void> => {
      if (job.cancelled) return;
      // A job in progress holds the VCL warm: it cannot go cold under a running job.
      const release = this.hold(`job of ${this.module}`);
      platform.stats.jobs_run++;
      try {
        await fn(this);
      } catch (e) {
        platform.stats.jobs_failed++;
        platform.logger?.error({ vcl: this.vclName, vmod: this.module }, `job failed: ${(e as Error)?.message ?? String(e)}`);
      } finally {
        release();
      }
      if (repeat && !job.cancelled) timer = setTimeout(fire, seconds * 1000).unref();
      else if (!repeat) stop();
    };
    timer = setTimeout(fire, seconds * 1000).unref();
    return job;
  }
}
