// Turns the constants a generated VCL asks for (ConstSpec, src/vcl/codegen-context.ts) into
// values, at load: operations, accessors, compiled regexes and ACLs, backends, resolved IPs,
// VMOD functions and classes, PRIV holders. Whatever is missing here is a bug in the code
// generator or the loader, reported as such.

import { utf8ToByteString } from '../common/byte-string.ts';
import type { ConstSpec } from '../vcl/codegen-context.ts';
import type { AclRef, Director, PrivHolder } from '../vmod/api.ts';
import type { BoundVmod } from '../vmod/bind.ts';
import type { CompiledAcl } from '../common/acl.ts';
import { ACTION } from './actions.ts';
import type { VclIp } from '../common/ip.ts';
import { compileVclRegex } from '../common/regex.ts';
import type { StorageInfo } from './task.ts';
import { HEADER_OBJECTS, VARIABLE_ACCESSORS } from './variables.ts';
import { VCL_OPS } from './vcl-ops.ts';

/** What the loader has ready when the constants are built. */
export interface ConstantSources {
  /** The sources of the VCL's regex literals, by index. */
  readonly regexes: readonly string[];
  readonly vmods: ReadonlyMap<string, BoundVmod>;
  readonly acls: ReadonlyMap<string, CompiledAcl>;
  readonly backends: ReadonlyMap<string, Director>;
  /** IP constants by their text as written, resolved. */
  readonly ips: ReadonlyMap<string, VclIp>;
  readonly privCall: readonly PrivHolder[];
  readonly privVcl: ReadonlyMap<string, PrivHolder>;
  /** One key object per imported VMOD: what its PRIV_TASK and PRIV_TOP are stored under. */
  readonly vmodKeys: ReadonlyMap<string, object>;
  readonly storage: (name: string) => StorageInfo;
  readonly created: (name: string, instance: object) => void;
}

export function buildConstants(specs: readonly ConstSpec[], src: ConstantSources): unknown[] {
  const aclRefs = new Map<string, AclRef>();
  return specs.map((spec) => {
    const value = constantValue(spec, src, aclRefs);
    if (value === undefined) throw new Error(`internal: no value for generated constant ${JSON.stringify(spec)}`);
    return value;
  });
}

function constantValue(spec: ConstSpec, src: ConstantSources, aclRefs: Map<string, AclRef>): unknown {
  switch (spec.kind) {
    case 'op':
      return VCL_OPS[spec.name];
    case 'action':
      return ACTION[spec.name];
    case 'vclAction':
      return Object.freeze({ action: 'vcl', label: spec.label });
    case 'get':
    case 'set':
    case 'unset':
      return VARIABLE_ACCESSORS[spec.variable]?.[spec.kind];
    case 'http':
      return HEADER_OBJECTS[spec.obj];
    case 'headerRef':
      return Object.freeze({ where: spec.obj, name: spec.name });
    case 'regex': {
      const compiled = compileVclRegex(utf8ToByteString(src.regexes[spec.index]));
      if ('error' in compiled) throw new Error(`internal: regex #${spec.index} does not compile: ${compiled.error}`);
      return compiled.re;
    }
    case 'acl':
      return src.acls.get(spec.name);
    case 'aclRef': {
      let ref = aclRefs.get(spec.name);
      const acl = src.acls.get(spec.name);
      if (ref === undefined && acl !== undefined) {
        ref = Object.freeze({ name: spec.name, match: (ip: VclIp | null) => ip !== null && acl.match(ip) });
        aclRefs.set(spec.name, ref);
      }
      return ref;
    }
    case 'backend':
      return src.backends.get(spec.name);
    case 'probe':
    case 'subRef':
      return Object.freeze({ name: spec.name });
    case 'storage':
      return src.storage(spec.name);
    case 'blob':
      return new Uint8Array(Buffer.from(spec.base64, 'base64'));
    case 'ip':
      return src.ips.get(spec.text);
    case 'fn':
      return src.vmods.get(spec.module)?.functions.get(spec.name);
    case 'ctor':
      return src.vmods.get(spec.module)?.classes.get(spec.object);
    case 'privCall':
      return src.privCall[spec.index];
    case 'privVcl':
      return src.privVcl.get(spec.module);
    case 'vmodKey':
      return src.vmodKeys.get(spec.module);
    case 'created':
      return src.created;
  }
}
