// A small command-line reader for varnishd-style flags: `-f FILE`, `-I DIR` (repeatable),
// `-p name=value`, `--ast`. Each command declares its flags; anything else is a usage error.

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface FlagSpec {
  /** Takes a value (`-f FILE`) or is a switch (`-F`). */
  readonly value: boolean;
  /** May be given several times; values collect into a list. */
  readonly repeat?: boolean;
}

export interface ParsedArgs {
  readonly flags: Map<string, string[]>;
  readonly positional: string[];
}

export function parseArgs(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>): ParsedArgs {
  const flags = new Map<string, string[]>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    // getopt style: `-sfoo=malloc,1m` is `-s` with the value `foo=malloc,1m`.
    const glued = !arg.startsWith('--') && arg.length > 2 && spec[arg.slice(0, 2)]?.value === true && !spec[arg];
    const name = glued ? arg.slice(0, 2) : eq > 0 ? arg.slice(0, eq) : arg;
    const f = spec[name];
    if (!f) throw new UsageError(`unknown option ${name}`);
    let value = 'true';
    if (f.value) {
      if (glued) value = arg.slice(2);
      else if (eq > 0) value = arg.slice(eq + 1);
      else if (i + 1 < argv.length) value = argv[++i];
      else throw new UsageError(`option ${name} needs a value`);
    }
    const list = flags.get(name) ?? [];
    if (list.length > 0 && !f.repeat) throw new UsageError(`option ${name} given twice`);
    list.push(value);
    flags.set(name, list);
  }
  return { flags, positional };
}

/** A flag's value as a positive number (`-j 2`, `-t 1.5`), or `fallback` when the flag is absent. */
export function positiveNumber(flag: string, v: string | undefined, fallback: number): number {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} needs a positive number`);
  return n;
}
