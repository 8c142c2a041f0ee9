// Test helpers for the directors: backends whose health a test flips, and task contexts (the
// runtime's own VclTask) for each side, collecting what the VMOD logs.

import { VclHttp } from '../../src/runtime/http.ts';
import { VclTask } from '../../src/runtime/task.ts';
import type { Director, VmodContext } from '../../src/vmod/api.ts';
import type { SubName } from '../../src/vcl/spec.ts';

export class FakeBackend implements Director {
  readonly name: string;
  readonly type = 'backend';
  sick = false;
  changed = 0;

  constructor(name: string) {
    this.name = name;
  }

  healthy(_ctx: VmodContext | null): boolean {
    return !this.sick;
  }

  resolve(_ctx: VmodContext): Director {
    return this;
  }

  /** Flips the health, recording when, as a probe would. */
  setSick(sick: boolean, when: number): void {
    this.sick = sick;
    this.changed = when;
  }
}

export function backends(...names: string[]): FakeBackend[] {
  return names.map((n) => new FakeBackend(n));
}

/** Every message logged through any task made here, in order. */
export const logged: string[] = [];

const services = { log: (_t: VclTask, message: string) => void logged.push(message) };

export function initTask(): VclTask {
  const t = new VclTask('housekeeping', services);
  t.method = 'vcl_init';
  t.now = Date.now() / 1000;
  return t;
}

export function clientTask(url = '/', method: SubName = 'vcl_recv'): VclTask {
  const t = new VclTask('client', services);
  t.method = method;
  t.req = VclHttp.request('GET', url);
  t.now = Date.now() / 1000;
  return t;
}

/** A backend task for `url`, given the hash digest of the client request it fetches for. */
export function backendTask(url = '/', digest?: Uint8Array, method: SubName = 'vcl_backend_fetch'): VclTask {
  const t = new VclTask('backend', services);
  t.method = method;
  t.bereq = VclHttp.request('GET', url);
  if (digest) t.setHashDigest(digest);
  t.now = Date.now() / 1000;
  return t;
}

export function names(list: readonly (Director | null)[]): (string | null)[] {
  return list.map((d) => d?.name ?? null);
}
