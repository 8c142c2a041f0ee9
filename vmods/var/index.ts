// The var VMOD (see vmod.vcc): typed variables per task in the PRIV_TASK holder, and global
// strings in one map for the process, shared by every VCL as upstream's are.

import type { Director, PrivHolder, VclIp, VmodContext } from '../../src/vmod/api.ts';
import * as self from './index.ts';
import type { VmodVar } from './interface.ts';

/** What each type of variable holds. */
interface Types {
  STRING: string;
  INT: number;
  REAL: number;
  DURATION: number;
  IP: VclIp | null;
  BACKEND: Director | null;
}

/** One variable: its VCL type and value; a get of another type reads as that type's empty value. */
interface Value {
  readonly type: keyof Types;
  readonly value: Types[keyof Types];
}

type Vars = Map<string, Value>;
type Task = PrivHolder<Vars>;

/** Global strings: as long as the process, across VCLs (upstream: as long as the VMOD is loaded). */
const globals = new Map<string, string | null>();

function put(task: Task, key: string | null, v: Value): void {
  if (key === null) return;
  task.priv ??= new Map();
  task.priv.set(key, v);
}

function read<T extends keyof Types>(task: Task, key: string | null, type: T): Types[T] | undefined {
  const v = key === null ? undefined : task.priv?.get(key);
  return v?.type === type ? (v.value as Types[T]) : undefined;
}

export function set_string(_ctx: VmodContext, task: Task, key: string | null, value: string | null): void {
  put(task, key, { type: 'STRING', value: value ?? '' });
}

export function get_string(_ctx: VmodContext, task: Task, key: string | null): string | null {
  return read(task, key, 'STRING') ?? null;
}

export { get_string as get, set_string as set };

export function set_int(_ctx: VmodContext, task: Task, key: string | null, value: number): void {
  put(task, key, { type: 'INT', value });
}

export function get_int(_ctx: VmodContext, task: Task, key: string | null): number {
  return read(task, key, 'INT') ?? 0;
}

export function set_real(_ctx: VmodContext, task: Task, key: string | null, value: number): void {
  put(task, key, { type: 'REAL', value });
}

export function get_real(_ctx: VmodContext, task: Task, key: string | null): number {
  return read(task, key, 'REAL') ?? 0;
}

export function set_duration(_ctx: VmodContext, task: Task, key: string | null, value: number): void {
  put(task, key, { type: 'DURATION', value });
}

export function get_duration(_ctx: VmodContext, task: Task, key: string | null): number {
  return read(task, key, 'DURATION') ?? 0;
}

export function set_ip(_ctx: VmodContext, task: Task, key: string | null, value: VclIp | null): void {
  put(task, key, { type: 'IP', value });
}

export function get_ip(_ctx: VmodContext, task: Task, key: string | null): VclIp | null {
  return read(task, key, 'IP') ?? null;
}

export function set_backend(_ctx: VmodContext, task: Task, key: string | null, value: Director | null): void {
  put(task, key, { type: 'BACKEND', value });
}

export function get_backend(_ctx: VmodContext, task: Task, key: string | null): Director | null {
  return read(task, key, 'BACKEND') ?? null;
}

export function clear(_ctx: VmodContext, task: Task): void {
  task.priv?.clear();
}

export function global_set(_ctx: VmodContext, key: string | null, value: string | null): void {
  if (key !== null) globals.set(key, value);
}

export function global_get(_ctx: VmodContext, key: string | null): string | null {
  return key === null ? null : (globals.get(key) ?? null);
}

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodVar<{ task: Vars }>;
