// Server events: what VMODs hear of the work the server did (Valkey's command-result events,
// for a proxy). The parts that do the work test one boolean, `events.listening.<name>`, and
// build a payload only when it is true: with nobody subscribed an event costs that test. The
// handler lists are rebuilt when a subscription comes or goes, never per event.
//
// Payloads are plain objects, versioned per event: a subscriber names the version it was
// written for and gets the fields of that version (later versions only add fields; the list of
// each version is EVENT_FIELDS below, documented in docs/writing-a-vmod.md). Delivery waits
// until the work is over (setImmediate: after the response was written); a handler that throws
// is caught, counted (`events_failed`) and logged, and never touches the request. Subscribers
// of one version share one payload object: a handler must not change it.

/** Every event and the fields of each of its versions, oldest first. */
export const EVENT_FIELDS = {
  request: [
    ['xid', 'vcl', 'method', 'url', 'host', 'status', 'handling', 'client', 'bytesIn', 'bytesOut', 'error'],
    ['timestamps', 'backend'],
    ['steps'],
  ],
  fetch: [['xid', 'parentXid', 'vcl', 'method', 'url', 'backend', 'status', 'mode', 'bytesOut', 'error', 'timestamps'], ['steps']],
  cli: [['command', 'args', 'status', 'outcome', 'durationMs', 'peer']],
  'backend.health': [['backend', 'vcl', 'healthy', 'previous']],
  vcl: [['vcl', 'change']],
  ban: [['expression', 'time', 'origin']],
} as const satisfies Readonly<Record<string, readonly (readonly string[])[]>>;

export type ServerEventName = keyof typeof EVENT_FIELDS;
export const SERVER_EVENTS = Object.keys(EVENT_FIELDS) as ServerEventName[];

/** The newest version of an event. */
export function latestVersion(name: ServerEventName): number {
  return EVENT_FIELDS[name].length;
}

export type EventPayload = Readonly<Record<string, unknown>>;
export type EventHandler = (payload: EventPayload) => void | Promise<void>;

export interface Subscription {
  readonly event: ServerEventName;
  readonly version: number;
  readonly handler: EventHandler;
  /** Who subscribed: `vmod` in VCL `vcl`, for the log line of a failure. */
  readonly owner: string;
}

export interface ServerEventCounters {
  /** Handler calls made. */
  events_delivered: number;
  /** Handler calls that threw or rejected. */
  events_failed: number;
}

type Logger = { error(fields: Record<string, unknown>, message: string): void };

export class ServerEvents {
  /** One flag per event: true while anybody listens. The one test a part makes per event. */
  readonly listening: Record<ServerEventName, boolean>;
  readonly counters: ServerEventCounters = { events_delivered: 0, events_failed: 0 };
  readonly #subs = new Map<ServerEventName, Subscription[]>();
  readonly #logger: Logger | undefined;
  /** Events waiting for delivery: one setImmediate delivers them all, in order. */
  #queue: { name: ServerEventName; subs: readonly Subscription[]; payload: EventPayload }[] = [];

  constructor(logger?: Logger) {
    this.#logger = logger;
    this.listening = Object.fromEntries(SERVER_EVENTS.map((n) => [n, false])) as Record<ServerEventName, boolean>;
  }

  /** Adds a subscription; returns its removal. Throws on an unknown event or version. */
  subscribe(sub: Subscription): () => void {
    if (!Object.hasOwn(EVENT_FIELDS, sub.event)) {
      throw new Error(`unknown server event '${sub.event}' (one of ${SERVER_EVENTS.join(', ')})`);
    }
    const latest = latestVersion(sub.event);
    if (!Number.isInteger(sub.version) || sub.version < 1 || sub.version > latest) {
      throw new Error(`server event '${sub.event}' has versions 1 to ${latest}, not ${sub.version}`);
    }
    // A new array each time: an emit in progress keeps iterating the one it took.
    this.#subs.set(sub.event, [...(this.#subs.get(sub.event) ?? []), sub]);
    this.listening[sub.event] = true;
    let removed = false;
    return () => {
      if (removed) return;
      removed = true;
      const left = (this.#subs.get(sub.event) ?? []).filter((s) => s !== sub);
      this.#subs.set(sub.event, left);
      this.listening[sub.event] = left.length > 0;
    };
  }

  /**
   * Delivers an event after the current work: `payload` holds the fields of the newest version;
   * each subscriber gets those of its own. Call only when `listening[name]` is true.
   */
  emit(name: ServerEventName, payload: EventPayload): void {
    const subs = this.#subs.get(name);
    if (subs === undefined || subs.length === 0) return;
    if (this.#queue.length === 0) setImmediate(() => this.#flush());
    this.#queue.push({ name, subs, payload });
  }

  #flush(): void {
    const queue = this.#queue;
    this.#queue = [];
    for (const e of queue) this.#deliver(e.name, e.subs, e.payload);
  }

  #deliver(name: ServerEventName, subs: readonly Subscription[], payload: EventPayload): void {
    const shapes = new Map<number, EventPayload>();
    for (const sub of subs) {
      let shape = shapes.get(sub.version);
      if (shape === undefined) {
        shape = project(name, sub.version, payload);
        shapes.set(sub.version, shape);
      }
      this.counters.events_delivered++;
      try {
        const r = sub.handler(shape);
        if (r instanceof Promise) r.catch((e) => this.#failed(sub, e));
      } catch (e) {
        this.#failed(sub, e);
      }
    }
  }

  #failed(sub: Subscription, e: unknown): void {
    this.counters.events_failed++;
    try {
      this.#logger?.error({ event: sub.event, subscriber: sub.owner }, `server event handler failed: ${(e as Error)?.message ?? String(e)}`);
    } catch {
      // A broken logger must not break delivery to the others.
    }
  }
}

/** The fields of versions 1..version of an event, taken from a newest-version payload. */
function project(name: ServerEventName, version: number, payload: EventPayload): Record<string, unknown> {
  // The newest version is the payload itself (emitters fill every field): one copy, no walk.
  if (version === EVENT_FIELDS[name].length) return { event: name, version, ...payload };
  const out: Record<string, unknown> = { event: name, version };
  const versions = EVENT_FIELDS[name];
  for (let v = 0; v < version; v++) for (const f of versions[v]) out[f] = payload[f] ?? null;
  return out;
}
