// The typed form of a VMOD manifest (`vmod.vcc`). The .vcc parser produces it; the VCL checker
// types calls against it; the binder turns calls into direct function calls; vmodtool turns it
// into a TypeScript interface and a manual page.

import type { VclType } from '../vcl/spec.ts';

export type PrivKind = 'PRIV_CALL' | 'PRIV_TASK' | 'PRIV_TOP' | 'PRIV_VCL';

/** What a manifest argument or return may be: a VCL type or a PRIV_* holder. */
export type ArgType = VclType | PrivKind;

export const PRIV_KINDS: readonly PrivKind[] = ['PRIV_CALL', 'PRIV_TASK', 'PRIV_TOP', 'PRIV_VCL'];

export function isPrivKind(t: string): t is PrivKind {
  return (PRIV_KINDS as readonly string[]).includes(t);
}

export interface VmodArg {
  /** Absent for unnamed arguments (`$Function STRING f(STRING)`); PRIV_* arguments have none. */
  readonly name?: string;
  readonly type: ArgType;
  /** For ENUM: the allowed values, in manifest order. */
  readonly enumValues?: readonly string[];
  /**
   * The default as VCL source text (`"x"`, `0`, `10s`), parsed when binding; an ENUM default
   * is the bare value (`HASH`), one of enumValues.
   */
  readonly default?: string;
  /** Written inside `[ ]`: may be left out, and the implementation is told whether it was given. */
  readonly optional: boolean;
}

export interface VmodFunction {
  readonly name: string;
  readonly ret: VclType;
  readonly args: readonly VmodArg[];
  /** Subs where it may be called, as a scope mask of src/vcl/spec.ts; absent: anywhere. */
  readonly restrict?: number;
  /** The prose that follows the entry in the manifest. */
  readonly doc: string;
  /** The manifest line of the entry, for error messages. */
  readonly line: number;
}

export interface VmodObject {
  readonly name: string;
  /** The constructor's arguments. */
  readonly args: readonly VmodArg[];
  readonly methods: ReadonlyMap<string, VmodFunction>;
  /** `$Object NULL_OK`: vcl_init may leave an instance of it uninitialized. */
  readonly nullOk?: boolean;
  readonly doc: string;
  readonly line: number;
}

/** `$Counter NAME TYPE`: a counter the VMOD bumps, shown as `<MODULE>.<NAME>`. */
export interface VmodCounter {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly doc: string;
  readonly line: number;
}

/** The types a `$Param` may have: the core parameter types, by the names VMOD authors use. */
export const VMOD_PARAM_TYPES = ['bool', 'uint', 'timeout', 'bytes', 'string', 'enum'] as const;
export type VmodParamType = (typeof VMOD_PARAM_TYPES)[number];

/** `$Param NAME TYPE DEFAULT [min=X] [max=Y] [readonly]`: the parameter `<module>.<name>`. */
export interface VmodParam {
  readonly name: string;
  readonly type: VmodParamType;
  /** As the operator would write it (`10s`, `64k`, `on`). */
  readonly default: string;
  readonly min?: string;
  readonly max?: string;
  /** For enum: the allowed words. */
  readonly values?: readonly string[];
  /** Settable with -p at start only ("not tunable online"). */
  readonly readonly: boolean;
  readonly doc: string;
  readonly line: number;
}

/** `$Command NAME "ARGUMENTS"`: the admin command `<module>.<name>`; its prose is the help. */
export interface VmodCommand {
  readonly name: string;
  /** The usage after the command name, as help prints it. */
  readonly usage: string;
  readonly doc: string;
  readonly line: number;
}

export interface VmodManifest {
  /** `$Module name section description`. */
  readonly name: string;
  readonly section: string;
  readonly description: string;
  readonly abi: 'strict' | 'vrt';
  /** `$ABI 2.0`: the Shellac VMOD API version the VMOD was written for (checked at load). */
  readonly apiVersion?: string;
  /** `$Event fn`: the implementation's event function name. */
  readonly event?: string;
  readonly prefix?: string;
  readonly synopsis?: 'auto' | 'manual';
  /** Prose after `$Module`, before the first entry. */
  readonly doc: string;
  readonly functions: ReadonlyMap<string, VmodFunction>;
  readonly objects: ReadonlyMap<string, VmodObject>;
  /**
   * `$Alias name target`: another name for a function or method. Function aliases are keyed by
   * name (`format_rfc1123` → `format_date`); method aliases by `object.name` → `object.method`.
   */
  readonly aliases: ReadonlyMap<string, string>;
  /** `$Counter` entries, in manifest order. */
  readonly counters: readonly VmodCounter[];
  /** `$Param` entries, in manifest order. */
  readonly params: readonly VmodParam[];
  /** `$Command` entries, in manifest order. */
  readonly commands: readonly VmodCommand[];
  /** `$Requires MODULE`: VMODs imported with this one, whose events run before its own. */
  readonly requires: readonly string[];
  /** The manifest file, for error messages. */
  readonly file: string;
}
