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
