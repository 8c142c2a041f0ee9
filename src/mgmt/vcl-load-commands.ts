// vcl.load and vcl.inline, as both sides of `shellac serve` (and an in-process server) answer
// them: one syntax, one check of the state argument, one wording of the replies. Who compiles
// differs: an in-process server's registry compiles and loads (server-commands.ts); the
// manager compiles (vcl-compile-commands.ts) and hands its child the compiled VCL with
// vcl.load_compiled, a command only the child has and only the manager sends.

import type { Shellac } from '../proxy/server.ts';
import { VclError, type VclWantedState } from '../proxy/vcls.ts';
import { type CompiledVcl, parseCompiledVcl } from '../runtime/compiled-vcl.ts';
import { CLIS, type CliReply, type CommandSpec, fail, ok } from './admin.ts';

export type VclInput = { readonly file: string } | { readonly source: string };

/** Loads a VCL; resolves with a reply of its own, or nothing when it loaded ("VCL compiled."). */
export type VclLoader = (name: string, input: VclInput, state: VclWantedState) => Promise<CliReply | undefined>;

const STATES = new Set(['auto', 'cold', 'warm']);

/** Whether a word is a VCL state (vcl.load, vcl.inline, vcl.state). */
export function isVclState(word: string): word is VclWantedState {
  return STATES.has(word);
}

export const BAD_STATE = fail(CLIS.PARAM, 'State must be one of auto, cold or warm.\n');

/** The reply to a VCL that did not compile, or did not load: varnishd's wording around the report. */
export function compilerFailed(report: string): CliReply {
  return fail(CLIS.PARAM, `Message from VCC-compiler:\n${report}\nVCL compilation failed\n`);
}

/**
 * Runs a load and says how it went: a refusal of the registry (VclError: a bad name, a name in
 * use, an unknown label) with its status, any other failure as the compiler's report.
 */
export async function loadReply(load: () => Promise<CliReply | undefined>): Promise<CliReply> {
  try {
    return (await load()) ?? ok('VCL compiled.\n');
  } catch (e) {
    if (e instanceof VclError) return fail(e.status, `${e.message}\n`);
    return compilerFailed((e as Error).message);
  }
}

/** The vcl.load and vcl.inline commands over a loader. */
export function vclLoadCommands(load: VclLoader): Record<'vcl.load' | 'vcl.inline', CommandSpec> {
  const run = (name: string, input: VclInput, state = 'auto') => (isVclState(state) ? loadReply(() => load(name, input, state)) : BAD_STATE);
  return {
    'vcl.load': {
      syntax: 'vcl.load <configname> <filename> [auto|cold|warm]',
      help: 'Compile and load a VCL file under a name.',
      min: 2,
      max: 3,
      run: (a) => run(a[0], { file: a[1] }, a[2]),
    },
    'vcl.inline': {
      syntax: 'vcl.inline <configname> <quoted_VCLstring> [auto|cold|warm]',
      help: 'Compile and load VCL given as text under a name.',
      min: 2,
      max: 3,
      run: (a) => run(a[0], { source: a[1] }, a[2]),
    },
  };
}

/** The child's command that loads what its manager compiled. */
export const LOAD_COMPILED = 'vcl.load_compiled';

/** The command the manager sends its child for a compiled VCL (and replays into the next one). */
export function loadCompiledArgv(name: string, compiled: CompiledVcl, state: VclWantedState): string[] {
  return [LOAD_COMPILED, name, state, JSON.stringify(compiled)];
}

/** vcl.load_compiled, registered by the child of `shellac serve` on its private admin listener. */
export function loadCompiledCommand(srv: Shellac): CommandSpec {
  return {
    syntax: `${LOAD_COMPILED} <configname> auto|cold|warm <compiled VCL, JSON>`,
    help: 'Load a VCL the manager compiled (the manager sends it for vcl.load and vcl.inline).',
    min: 3,
    max: 3,
    hidden: true,
    run: (a) => {
      const state = a[1];
      if (!isVclState(state)) return BAD_STATE;
      return loadReply(async () => {
        await srv.vcls.loadCompiled(a[0], parseCompiledVcl(a[2]), state);
        return undefined;
      });
    },
  };
}
