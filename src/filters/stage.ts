// What every filter is made of: a stage turns one stream of body bytes into another. Fetch and
// delivery filters both build stages; a chain is the stages composed in list order. Keeping the
// body an async iterable of Buffers lets the fetch stream into the object and the delivery
// stream to the client through any chain, with back-pressure from the consumer.

import { pipeline, type Transform } from 'node:stream';
import { Readable } from 'node:stream';

export type Body = AsyncIterable<Buffer>;
export type Stage = (input: Body) => Body;

/** The stages one after another; the identity when there are none. */
export function compose(stages: readonly Stage[]): Stage {
  return (input) => {
    let body = input;
    for (const s of stages) body = s(body);
    return body;
  };
}

/** The bytes through a node stream (zlib's); its error ends the iteration with that error. */
export async function* through(input: Body, t: Transform): AsyncGenerator<Buffer> {
  // pipeline destroys both ends on an error, so the loop below throws it.
  pipeline(Readable.from(input, { objectMode: false }), t, () => {});
  for await (const chunk of t) yield chunk as Buffer;
}

/** A filter list as VCL writes it (beresp.filters, resp.filters): names separated by blanks. */
export function filterNames(list: string): string[] {
  return list.split(/\s+/).filter((n) => n !== '');
}

const TICK = Symbol('tick');

/**
 * Joins the chunks that come before the event loop turns into one (up to `max` bytes): an ESI
 * page of cached parts is made of many small ranges that are all there at once, and one write
 * of them costs one system call instead of one each. A chunk that is slow to come is waited
 * for; what came before it goes out first.
 */
export async function* coalesce(input: Body, max = 65536): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  let next = it.next();
  for (;;) {
    const first = await next;
    if (first.done === true) return;
    const batch = [first.value];
    let size = first.value.length;
    next = it.next();
    let tick: Promise<typeof TICK> | null = null;
    let ended = false;
    while (size < max) {
      tick ??= new Promise((resolve) => setImmediate(resolve, TICK));
      const r = await Promise.race([next, tick]);
      if (r === TICK) break;
      if (r.done === true) {
        ended = true;
        break;
      }
      batch.push(r.value);
      size += r.value.length;
      next = it.next();
    }
    yield batch.length === 1 ? batch[0] : Buffer.concat(batch, size);
    if (ended) return;
  }
}
