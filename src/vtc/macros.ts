// VTC macros: `${name}` is replaced by its value when a command line runs. A few are
// functions taking arguments (`${string,repeat,3,ab}`, `${date}`). Names defined by servers,
// varnish instances and barriers appear as those start (`${s1_addr}`, `${v1_port}`).

export class MacroError extends Error {
  override name = 'MacroError';
}

type MacroFn = (args: readonly string[]) => string;

const FUNCTIONS: Readonly<Record<string, MacroFn>> = {
  date: () => new Date().toUTCString(),
  string: (args) => {
    if (args[0] !== 'repeat') throw new MacroError(`Unknown string macro action: ${args[0] ?? '(none)'}`);
    if (args.length !== 3) throw new MacroError('The string,repeat macro takes a count and a string');
    const n = Number(args[1]);
    if (!Number.isInteger(n) || n < 0) throw new MacroError(`Bad repeat count: ${args[1]}`);
    return args[2].repeat(n);
  },
};

export class Macros {
  readonly #values = new Map<string, string>();
  /** Set by `feature ignore_unknown_macro`: unknown macros stay as written. */
  ignoreUnknown = false;

  define(name: string, value: string): void {
    this.#values.set(name, value);
  }

  undefine(name: string): void {
    this.#values.delete(name);
  }

  get(name: string): string | undefined {
    return this.#values.get(name);
  }

  /** Replaces every `${...}` in `text`; an unknown name throws unless ignoreUnknown is set. */
  expand(text: string): string {
    if (!text.includes('${')) return text;
    let out = '';
    let p = 0;
    for (;;) {
      const open = text.indexOf('${', p);
      if (open < 0) break;
      const close = text.indexOf('}', open + 2);
      if (close < 0) break;
      out += text.slice(p, open);
      const inner = text.slice(open + 2, close);
      const value = this.#resolve(inner);
      out += value ?? text.slice(open, close + 1);
      p = close + 1;
    }
    return out + text.slice(p);
  }

  #resolve(inner: string): string | undefined {
    const [name, ...args] = splitMacroArgs(inner);
    if (name === undefined || name === '') throw new MacroError(`Empty macro name in \${${inner}}`);
    if (args.length === 0) {
      const v = this.#values.get(name);
      if (v !== undefined) return v;
    }
    const fn = FUNCTIONS[name];
    if (fn) return fn(args);
    if (this.ignoreUnknown) return undefined;
    throw new MacroError(`Macro \${${inner}} not found`);
  }
}

/** `name,a,b` or ` name a b `, with "quoted" arguments that may hold commas or blanks. */
function splitMacroArgs(inner: string): string[] {
  const out: string[] = [];
  let p = 0;
  const n = inner.length;
  while (p < n) {
    while (p < n && (inner[p] === ' ' || inner[p] === '\t' || inner[p] === ',')) p++;
    if (p >= n) break;
    if (inner[p] === '"') {
      const end = inner.indexOf('"', p + 1);
      if (end < 0) throw new MacroError(`Unterminated quoted argument in \${${inner}}`);
      out.push(inner.slice(p + 1, end));
      p = end + 1;
    } else {
      const s = p;
      while (p < n && inner[p] !== ' ' && inner[p] !== '\t' && inner[p] !== ',') p++;
      out.push(inner.slice(s, p));
    }
  }
  return out;
}
