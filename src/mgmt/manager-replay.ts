// What the manager holds for the next child, as varnishd's manager does: the admin commands
// that changed a child's state (VCLs loaded, labelled, used, discarded, their temperature, and
// parameters set at run time), replayed into a new child before it serves.
//
// The log keeps state, not history: each command says which earlier entries it makes moot (a
// second param.set of one name, a vcl.use after another, a discard of what a load made). The
// replay runs in phases, so that what a command needs exists when it runs whatever order the
// operator typed things in: parameters (the compiler reads some), loads, labels, temperatures,
// the active VCL, then discards of what the child made itself at start (the boot VCL).

import { LOAD_COMPILED } from './vcl-load-commands.ts';

/** One recorded command, as the child accepted it (a leading -j taken off). */
export type ReplayEntry = readonly string[];

interface ReplayRule {
  /** The replay phase: lower runs first. */
  readonly phase: number;
  /** Earlier entries this one makes moot. */
  readonly supersedes: (earlier: ReplayEntry, now: ReplayEntry) => boolean;
  /** Whether the command itself stays in the log, given the entries it made moot. */
  readonly keep: (moot: readonly ReplayEntry[]) => boolean;
}

const always = (): boolean => true;
const never = (): boolean => false;
const sameCommandAndName = (e: ReplayEntry, n: ReplayEntry): boolean => e[0] === n[0] && e[1] === n[1];
const PARAM: ReplayRule = { phase: 0, supersedes: (e, n) => e[0].startsWith('param.') && e[1] === n[1], keep: always };
const LOAD: ReplayRule = { phase: 1, supersedes: never, keep: always };

const RULES: Readonly<Record<string, ReplayRule>> = {
  'param.set': PARAM,
  'param.reset': PARAM,
  // What the manager itself sends a new child; an operator who types it gets it replayed too.
  'param.replay': PARAM,
  'vcl.load': LOAD,
  'vcl.inline': LOAD,
  // What the manager sends for vcl.load and vcl.inline: the VCL it compiled (vcl-compile-commands.ts).
  [LOAD_COMPILED]: LOAD,
  'vcl.label': { phase: 2, supersedes: sameCommandAndName, keep: always },
  'vcl.state': { phase: 3, supersedes: sameCommandAndName, keep: always },
  'vcl.use': { phase: 4, supersedes: (e) => e[0] === 'vcl.use', keep: always },
  // A discard takes back what made the VCL (or label) and what set its state; it is replayed
  // only when the log did not make the VCL, which the child then made itself at start.
  'vcl.discard': {
    phase: 5,
    supersedes: (e, n) => e[1] === n[1] && (RULES[e[0]] === LOAD || e[0] === 'vcl.state' || e[0] === 'vcl.label'),
    keep: (moot) => moot.every((e) => e[0] === 'vcl.state'),
  },
};

export class ReplayLog {
  #entries: ReplayEntry[] = [];

  /** Whether a command of this name changes what a new child must be told. */
  static records(name: string): boolean {
    return Object.hasOwn(RULES, name);
  }

  /** Notes a command the child answered 200 to. */
  record(argv: readonly string[]): void {
    const cmd = argv[1] === '-j' ? [argv[0], ...argv.slice(2)] : [...argv];
    const rule = RULES[cmd[0]];
    if (rule === undefined) return;
    const moot = this.#entries.filter((e) => rule.supersedes(e, cmd));
    this.#entries = this.#entries.filter((e) => !moot.includes(e));
    if (rule.keep(moot)) this.#entries.push(cmd);
  }

  /** The commands to send a new child, in replay order. */
  entries(): ReplayEntry[] {
    return this.#entries.map((e, i) => ({ e, i })).sort((a, b) => RULES[a.e[0]].phase - RULES[b.e[0]].phase || a.i - b.i).map((x) => x.e);
  }

  /**
   * The commands to send a new child, in replay order, as the child must take them: parameters
   * go as `param.replay`, which holds a VMOD's parameter until a replayed VCL loads the VMOD
   * (parameters replay before VCLs, and a VMOD declares its own when it loads).
   */
  forChild(): ReplayEntry[] {
    return this.entries().map((e) => (e[0] === 'param.set' || e[0] === 'param.reset' ? ['param.replay', ...e.slice(1)] : e));
  }

  /** The labels made with vcl.label and not discarded since. */
  labels(): string[] {
    return this.#entries.filter((e) => e[0] === 'vcl.label').map((e) => e[1]);
  }

  /** The VCL (or label) vcl.use made active last, if any. */
  lastUsed(): string | undefined {
    return this.#entries.findLast((e) => e[0] === 'vcl.use')?.[1];
  }
}
