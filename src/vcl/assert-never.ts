// The end of an exhaustive switch over a union's kinds. A kind added to the union without a
// case becomes a type error here, instead of a switch that silently does nothing with it.

/** Ends an exhaustive switch; reaching it at run time means a kind escaped the type system. */
export function assertNever(x: never, what = 'kind'): never {
  const k = (x as { k?: unknown } | null)?.k;
  throw new Error(`internal: unhandled ${what} ${JSON.stringify(k ?? x)}`);
}
