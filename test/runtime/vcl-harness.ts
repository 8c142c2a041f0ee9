// Helpers for tests that load real VCL text and run its subs on in-memory tasks.

import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import type { VclAction } from '../../src/runtime/actions.ts';
import { VclHttp } from '../../src/runtime/http.ts';
import { parseIp } from '../../src/common/ip.ts';
import { type LoadVclOptions, loadVcl, type VclEnv } from '../../src/runtime/load-vcl.ts';
import type { LoadedVcl } from '../../src/runtime/loaded-vcl.ts';
import { type TaskServices, VclTask } from '../../src/runtime/task.ts';
import type { SubName } from '../../src/vcl/spec.ts';

export const FIXTURE_VMODS = fileURLToPath(new URL('../fixtures/vmods/', import.meta.url));

/** The head every test VCL gets unless it starts with its own `vcl` line. */
export const HEAD = 'vcl 4.1;\nbackend default { .host = "127.0.0.1"; .port = "8080"; }\n';

/** Loads VCL text named "test"; the fixture VMODs are importable. */
export function load(source: string, opts: Partial<LoadVclOptions> & { env?: VclEnv } = {}): Promise<LoadedVcl> {
  const text = source.trimStart().startsWith('vcl ') ? source : HEAD + source;
  return loadVcl({ name: 'test', source: text, vmodPath: [FIXTURE_VMODS], ...opts });
}

export interface RequestInit {
  readonly method?: string;
  readonly url?: string;
  readonly proto?: string;
  readonly headers?: readonly (readonly [string, string])[];
  readonly clientIp?: string;
  readonly serverIp?: string;
  readonly services?: TaskServices;
}

/** A client task with a request, as the proxy would make it. */
export function clientTask(init: RequestInit = {}): VclTask {
  const t = new VclTask('client', init.services);
  t.req = VclHttp.request(init.method ?? 'GET', init.url ?? '/', init.proto ?? 'HTTP/1.1');
  for (const [name, value] of init.headers ?? [['Host', 'example.com']]) t.req.append(name, value);
  t.clientIp = parseIp(init.clientIp ?? '192.0.2.10:50000');
  t.serverIp = parseIp(init.serverIp ?? '192.0.2.1:80');
  t.xid = 1001;
  return t;
}

/** A backend task with a bereq (and optionally a beresp), as the proxy would make it. */
export function backendTask(init: RequestInit & { status?: number; respHeaders?: readonly (readonly [string, string])[] } = {}): VclTask {
  const t = new VclTask('backend', init.services);
  t.bereq = VclHttp.request(init.method ?? 'GET', init.url ?? '/', init.proto ?? 'HTTP/1.1');
  for (const [name, value] of init.headers ?? [['Host', 'example.com']]) t.bereq.append(name, value);
  t.beresp = VclHttp.response(init.status ?? 200, 'OK');
  for (const [name, value] of init.respHeaders ?? []) t.beresp.append(name, value);
  t.xid = 1002;
  return t;
}

/** Runs a sub that must not be async. */
export function run(vcl: LoadedVcl, sub: SubName, task: VclTask): VclAction {
  const r = vcl.run(sub, task);
  expect(r).not.toBeInstanceOf(Promise);
  return r as VclAction;
}

/** Runs vcl_synth the way the proxy does after `synth`: a resp with the status and reason. */
export function runSynth(vcl: LoadedVcl, task: VclTask, status: number, reason: string): VclAction {
  task.resp = VclHttp.response(status, reason);
  return run(vcl, 'vcl_synth', task);
}
