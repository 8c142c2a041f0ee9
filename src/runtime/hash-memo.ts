// The cache key of a request: the SHA-256 of what vcl_hash fed through hash_data(), as Varnish
// hashes it. A hit on a popular URL should not pay for SHA-256, nor for joining the strands into
// one string to look it up: the digests of recent inputs are kept in a trie of their strands
// (the URL, a separator, the Host...). The strands are mostly the same string objects request
// after request (the HTTP/1 parser hands out repeated short strings again, and their hash is
// kept in the string), so walking the trie is a few Map lookups and allocates nothing.
// Bounded: the trie starts empty again past MAX_NODES nodes or MAX_CHARS characters of
// prefixes. A digest is a function of its input only, so any trie, old or new, gives the
// right one.

import { hash } from 'node:crypto';

interface HashNode {
  /** The strands from the root to here, joined. */
  readonly prefix: string;
  readonly next: Map<string, HashNode>;
  /** The digest of `prefix`, once asked for. */
  digest: string | null;
}

const MAX_NODES = 16384;
const MAX_CHARS = 4 * 1024 * 1024;

let root = newNode('');
let nodes = 0;
let chars = 0;

function newNode(prefix: string): HashNode {
  return { prefix, next: new Map(), digest: null };
}

/** The digest as 32 latin1 characters, one per byte: the cache's key. */
function sha256(input: string): string {
  // The input is a byte string: its bytes are hashed, as Varnish hashes them (req.hash).
  return hash('sha256', Buffer.from(input, 'latin1'), 'binary');
}

/** One vcl_hash run's input, strand by strand. */
export class HashInput {
  /** Where the strands so far lead in the trie; null once they left it. */
  #node: HashNode | null = root;
  /** Off the trie: the last node on it, the strands after it and the whole input. */
  #from: HashNode | null = null;
  #rest: string[] | null = null;
  #input = '';

  add(strand: string): void {
    const node = this.#node;
    if (node !== null) {
      const next = node.next.get(strand);
      if (next !== undefined) {
        this.#node = next;
        return;
      }
      this.#node = null;
      this.#from = node;
      this.#rest = [strand];
      this.#input = node.prefix + strand;
      return;
    }
    this.#rest?.push(strand);
    this.#input += strand;
  }

  /** The digest of the input (the cache key), from the trie when it is there. */
  digest(): string {
    const node = this.#node;
    if (node !== null) {
      node.digest ??= sha256(node.prefix);
      return node.digest;
    }
    const key = sha256(this.#input);
    remember(this.#from!, this.#rest!, key);
    return key;
  }
}

/** Puts the path of `rest` under `from`, its end knowing `key`; not when the trie was emptied since. */
function remember(from: HashNode, rest: readonly string[], key: string): void {
  if (nodes + rest.length > MAX_NODES || chars > MAX_CHARS) {
    root = newNode('');
    nodes = 0;
    chars = 0;
    return;
  }
  let node = from;
  for (const strand of rest) {
    let next = node.next.get(strand);
    if (next === undefined) {
      next = newNode(node.prefix + strand);
      node.next.set(strand, next);
      nodes++;
      chars += next.prefix.length;
    }
    node = next;
  }
  node.digest = key;
}
