// The debug VMOD's dynamic backends: objects that make a backend at run time through
// ctx.newBackend, hand it out, and replace it on refresh (the old one is retired: what is in
// flight on it finishes there). Named after the object, as Varnish names them, so the operator
// sees `VCLNAME.OBJNAME`. Messages for bad input are Varnish's debug module's.

import { statSync } from 'node:fs';
import type { Director, ProbeRef, VmodContext } from '../../src/vmod/api.ts';

export class dyn {
  readonly #name: string;
  #backend: Director;

  constructor(ctx: VmodContext, vclName: string, addr: string | null, port: string | null, probe: ProbeRef | null) {
    this.#name = vclName;
    this.#backend = makeTcp(ctx, vclName, addr, port, probe);
  }

  backend(_ctx: VmodContext): Director {
    return this.#backend;
  }

  refresh(ctx: VmodContext, addr: string | null, port: string | null, probe: ProbeRef | null): void {
    const fresh = makeTcp(ctx, this.#name, addr, port, probe);
    const old = this.#backend;
    this.#backend = fresh;
    ctx.deleteBackend(old);
  }
}

function makeTcp(ctx: VmodContext, name: string, addr: string | null, port: string | null, probe: ProbeRef | null): Director {
  if (!addr || !port) ctx.fail('Missing dynamic backend address or port');
  return ctx.newBackend({ name, host: addr, port, hostHeader: addr, probe });
}

export class dyn_uds {
  readonly #name: string;
  #backend: Director;

  constructor(ctx: VmodContext, vclName: string, path: string | null) {
    this.#name = vclName;
    this.#backend = makeUds(ctx, vclName, path);
  }

  backend(_ctx: VmodContext): Director {
    return this.#backend;
  }

  refresh(ctx: VmodContext, path: string | null): void {
    const fresh = makeUds(ctx, this.#name, path);
    const old = this.#backend;
    this.#backend = fresh;
    ctx.deleteBackend(old);
  }
}

function makeUds(ctx: VmodContext, name: string, path: string | null): Director {
  if (!path?.startsWith('/')) ctx.fail(`path must be an absolute path: ${path ?? ''}`);
  let isSocket: boolean;
  try {
    isSocket = statSync(path).isSocket();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    ctx.fail(`Cannot stat path ${path}: ${code === 'ENOENT' ? 'No such file or directory' : (e as Error).message}`);
  }
  if (!isSocket) ctx.fail(`${path} is not a socket`);
  return ctx.newBackend({ name, path, probe: null });
}
