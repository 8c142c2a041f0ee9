// The manager of `shellac serve` compiles VCL, as varnishd's manager runs VCC and hands its
// child a shared object: vcl.load and vcl.inline (and SIGHUP's reload) parse, check and generate
// code here, and the child gets the compiled VCL (vcl.load_compiled, vcl-load-commands.ts),
// never the text. A VCL that does not compile, names a label that does not exist, or has a bad
// name is refused here with the compiler's report and never reaches the child, which loads
// neither Chevrotain nor the checker (docs/storage.md: about 13 MB of its memory).
//
// The replay log keeps the compiled command, so a new child gets the same VCL as the one it
// replaces, even if the file changed since (as varnishd's new child loads the same .so).

import { checkVclName, unknownLabelsMessage, VclError } from '../proxy/vcls.ts';
import { compileVcl } from '../runtime/compile-vcl.ts';
import { type AdminServer, CLIS, fail } from './admin.ts';
import type { Manager } from './manager.ts';
import { LOAD_COMPILED, loadCompiledArgv, type VclLoader, vclLoadCommands } from './vcl-load-commands.ts';

/** What the compiler needs from the command line: -I, -M and the -s names. */
export interface CompileSettings {
  readonly vclPath: readonly string[];
  readonly vmodPath: readonly string[];
  readonly storages: readonly string[];
}

/** Compiles here, then hands the child the result; the child's answer is the reply. */
export function managerVclLoader(mgr: Manager, settings: CompileSettings): VclLoader {
  return async (name, input, state) => {
    checkVclName(name);
    const compiled = await compileVcl({ name, ...input, ...settings });
    // Labels are the child's state, but every one was made through us (the replay log keeps them).
    const labels = mgr.replay.labels();
    const unknown = compiled.labels.filter((l) => !labels.includes(l));
    if (unknown.length > 0) throw new VclError(unknownLabelsMessage(unknown));
    return mgr.forward(loadCompiledArgv(name, compiled, state));
  };
}

/** vcl.load and vcl.inline on the manager's admin listener; vcl.load_compiled is the manager's to send, not an operator's. */
export function registerVclCompile(admin: AdminServer, load: VclLoader): void {
  for (const [name, spec] of Object.entries(vclLoadCommands(load))) admin.register(name, spec);
  admin.register(LOAD_COMPILED, {
    syntax: LOAD_COMPILED,
    help: 'Sent by the manager to its child only.',
    min: 0,
    max: -1,
    hidden: true,
    run: () => fail(CLIS.UNKNOWN, "Unknown request.\nType 'help' for more info.\n"),
  });
}
