// The debug VMOD's objects that hold values: `obj` (constructor arguments with defaults, methods
// of many shapes, per-object PRIV_TASK and PRIV_TOP), `obj_opt` (only optional arguments, PRIV_*
// in a constructor, and NULL_OK), `concat` (STRANDS in a constructor) and `aclobj` (an ACL).

import type { AclRef, PrivHolder, VmodContext } from '../../src/vmod/api.ts';
import { test_priv_call, test_priv_vcl, type VclState } from './privs.ts';

export class obj {
  readonly #name: string;
  readonly #string: string | null;
  readonly #number: string;

  constructor(_ctx: VmodContext, vclName: string, string: string | null, number: 'one' | 'two' | 'three') {
    this.#name = vclName;
    this.#string = string;
    this.#number = number;
  }

  enum(ctx: VmodContext, value: 'phk' | 'des' | 'kristian' | 'mithrandir' | 'martin'): void {
    ctx.log(`${this.#name}.enum(${value})`);
  }

  obj(_ctx: VmodContext): void {}

  string(_ctx: VmodContext): string | null {
    return this.#string;
  }

  number(_ctx: VmodContext): string {
    return this.#number;
  }

  foo(_ctx: VmodContext, _why: string | null): string {
    return 'BOO';
  }

  date(_ctx: VmodContext): number {
    return 21.4;
  }

  test_priv_call(ctx: VmodContext, call: PrivHolder<string>): void {
    test_priv_call(ctx, call);
  }

  test_priv_vcl(ctx: VmodContext, vcl: PrivHolder<VclState>): void {
    test_priv_vcl(ctx, vcl);
  }

  /** The runtime keys a method's PRIV_TASK by instance, so each object has its own. */
  test_priv_task(ctx: VmodContext, task: PrivHolder<string>, s: string | null): string | null {
    if (s) task.priv = s;
    ctx.log(`${this.#name}.priv_task() = ${task.priv ?? 'NULL'}`);
    return task.priv ?? null;
  }

  test_priv_top(ctx: VmodContext, top: PrivHolder<string> | null, s: string | null): string | null {
    if (top === null) ctx.fail(`${this.#name}.test_priv_top(): no PRIV_TOP outside a client request`);
    if (s) top.priv = s;
    ctx.log(`${this.#name}.priv_top() = ${top.priv ?? 'NULL'}`);
    return top.priv ?? null;
  }
}

/** How an optional argument reads in meth_opt's description. */
function described(v: string | boolean | null | undefined): string {
  if (v === undefined) return '*undef*';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  return v ?? '(null)';
}

export class obj_opt {
  readonly #name: string;
  readonly #s: string | null | undefined;
  readonly #b: boolean | undefined;

  constructor(
    ctx: VmodContext,
    vclName: string,
    call: PrivHolder<string>,
    vcl: PrivHolder<VclState>,
    task: PrivHolder<string>,
    s: string | null | undefined,
    b: boolean | undefined,
  ) {
    requirePrivs(ctx, `new ${vclName}`, call, vcl, task);
    this.#name = vclName;
    this.#s = s;
    this.#b = b;
  }

  meth_opt(
    ctx: VmodContext,
    call: PrivHolder<string>,
    vcl: PrivHolder<VclState>,
    task: PrivHolder<string>,
    s: string | null | undefined,
    b: boolean | undefined,
  ): string {
    requirePrivs(ctx, `${this.#name}.meth_opt()`, call, vcl, task);
    return `obj ${this.#name} obj_s ${described(this.#s)} obj_b ${described(this.#b)} met_s ${described(s)} met_b ${described(b)}`;
  }
}

/** Fails unless every PRIV_* holder arrived: the binder must pass them even beside optional arguments. */
function requirePrivs(ctx: VmodContext, where: string, ...holders: unknown[]): void {
  if (holders.some((h) => h === null || typeof h !== 'object' || !('priv' in h))) ctx.fail(`${where}: a PRIV_* argument is missing`);
}

export class concat {
  readonly #joined: string;

  constructor(_ctx: VmodContext, _vclName: string, strands: readonly (string | null)[]) {
    this.#joined = strands.join('');
  }

  get(_ctx: VmodContext): string {
    return this.#joined;
  }
}

export class aclobj {
  readonly #acl: AclRef | null;

  constructor(_ctx: VmodContext, _vclName: string, acl: AclRef | null) {
    this.#acl = acl;
  }

  get(_ctx: VmodContext): AclRef | null {
    return this.#acl;
  }
}
