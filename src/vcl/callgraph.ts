// The call graph of subs: which built-in subs each sub can run from (its scope), recursion,
// unused subs, and the judging of each recorded use against its sub's scope. A custom sub may
// only do what every built-in sub that reaches it allows.

import type { Pos } from './ast.ts';
import type { CheckContext, SubUses } from './check-context.ts';
import { isSubName, SUB_BIT, SUB_NAMES, type SubName } from './spec.ts';

export interface SubNode extends SubUses {
  readonly pos: Pos;
  /** Defined by builtin.vcl only: never reported as unused. */
  readonly fromBuiltin: boolean;
}

/** Computes each sub's scope; reports recursion, unused custom subs, and illegal uses. */
export function analyseCalls(cx: CheckContext, subs: ReadonlyMap<string, SubNode>, unusedAsError: boolean): Map<string, number> {
  const scope = new Map<string, number>();
  for (const name of subs.keys()) scope.set(name, isSubName(name) ? SUB_BIT[name] : 0);
  // Propagate along call edges until nothing changes; the graph is small.
  let changed = true;
  while (changed) {
    changed = false;
    for (const node of subs.values()) {
      const from = scope.get(node.name) ?? 0;
      if (from === 0) continue;
      for (const call of node.calls) {
        const before = scope.get(call.sub) ?? 0;
        const after = before | from;
        if (after !== before) {
          scope.set(call.sub, after);
          changed = true;
        }
      }
    }
  }
  reportRecursion(cx, subs);
  // As in Varnish, a sub is unused when nothing names it; one called only from unused subs is
  // not reported again (its caller is).
  for (const node of subs.values()) {
    if (!isSubName(node.name) && !node.fromBuiltin && (cx.symbols.get(node.name)?.refs ?? 0) === 0) {
      const message = `Unused sub ${node.name}, defined here but never called`;
      if (unusedAsError) cx.error(node.pos, message);
      else cx.diags.warning(node.pos, message);
    }
  }
  for (const node of subs.values()) judgeUses(cx, node, scope.get(node.name) ?? 0, subs, scope);
  return scope;
}

function judgeUses(cx: CheckContext, node: SubNode, scope: number, subs: ReadonlyMap<string, SubNode>, scopes: Map<string, number>): void {
  for (const use of node.uses) {
    const bad = scope & ~use.allowed;
    if (bad === 0) continue;
    const where = SUB_NAMES.find((s) => (bad & SUB_BIT[s]) !== 0) as SubName;
    let message = use.describe(where);
    if (!isSubName(node.name)) message += ` (sub ${node.name} is called ${callPath(where, node.name, subs, scopes)})`;
    cx.error(use.pos, message);
  }
}

/** "from vcl_recv" or "from vcl_recv via a, b": a shortest call path, for the message. */
function callPath(root: SubName, target: string, subs: ReadonlyMap<string, SubNode>, scopes: Map<string, number>): string {
  const bit = SUB_BIT[root];
  const prev = new Map<string, string>();
  const queue: string[] = [root];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const cur = queue.shift() as string;
    if (cur === target) break;
    for (const call of subs.get(cur)?.calls ?? []) {
      if (seen.has(call.sub) || ((scopes.get(call.sub) ?? 0) & bit) === 0) continue;
      seen.add(call.sub);
      prev.set(call.sub, cur);
      queue.push(call.sub);
    }
  }
  const via: string[] = [];
  for (let cur = prev.get(target); cur && cur !== root; cur = prev.get(cur)) via.unshift(cur);
  return via.length ? `from ${root} via ${via.join(', ')}` : `from ${root}`;
}

function reportRecursion(cx: CheckContext, subs: ReadonlyMap<string, SubNode>): void {
  const state = new Map<string, 'active' | 'done'>();
  const stack: string[] = [];
  const visit = (name: string): void => {
    state.set(name, 'active');
    stack.push(name);
    for (const call of subs.get(name)?.calls ?? []) {
      const s = state.get(call.sub);
      if (s === 'active') {
        const cycle = [...stack.slice(stack.indexOf(call.sub)), call.sub];
        cx.error(call.pos, `Subroutine recursion: ${cycle.join(' -> ')}`);
      } else if (s === undefined && subs.has(call.sub)) {
        visit(call.sub);
      }
    }
    stack.pop();
    state.set(name, 'done');
  };
  for (const name of subs.keys()) if (!state.has(name)) visit(name);
}
