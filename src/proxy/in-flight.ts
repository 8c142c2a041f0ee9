// A small keyed table for what comes and goes once per request (the client requests in flight,
// the connections serving one): two arrays, an entry removed by moving the last one into its
// place. A Map or Set that gains and loses an entry per request keeps remaking its hash table,
// and a long-lived one makes its tables in the old generation, garbage that only V8's full
// collections take back. Lookups scan from the newest entry: a hit is usually the only
// request in flight, and the few lookups by key (task services) are rare.

export class InFlight<K, V> {
  readonly #keys: K[] = [];
  readonly #values: V[] = [];

  get size(): number {
    return this.#keys.length;
  }

  /** Adds an entry; `key` must not be in the table already. */
  add(key: K, value: V): void {
    this.#keys.push(key);
    this.#values.push(value);
  }

  get(key: K): V | undefined {
    const i = this.#keys.lastIndexOf(key);
    return i < 0 ? undefined : this.#values[i];
  }

  has(key: K): boolean {
    return this.#keys.lastIndexOf(key) >= 0;
  }

  delete(key: K): boolean {
    const keys = this.#keys;
    const i = keys.lastIndexOf(key);
    if (i < 0) return false;
    const last = keys.length - 1;
    if (i !== last) {
      keys[i] = keys[last];
      this.#values[i] = this.#values[last];
    }
    keys.pop();
    this.#values.pop();
    return true;
  }

  /** The values as they are now (a copy: the caller may delete while it goes through them). */
  values(): V[] {
    return this.#values.slice();
  }
}
