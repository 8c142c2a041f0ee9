// V8 heap flags for the process that holds the cache (the manager's child). A storage keeps its
// bytes in slabs outside the JS heap and pays for its objects' index from its size, but the JS
// heap itself grows past what it holds: request garbage promoted between full collections, and
// a young generation of up to 64 MB a semi-space pair by default. These flags bound that slack
// without a hard limit:
// - a young generation of 16 MB semi-spaces (V8's default grows to 32 MB: 64 MB resident);
// - the old generation may grow to twice what the last full collection found live (V8's own
//   factor reaches 4 on a busy process).
// Measured in the soak (20 s, load average about 10 on 2 cores, docs/storage.md): RSS
// 359 MB without, 263 MB with, at the same CPU time per request; the young generation alone
// gave 289 MB, a growth of 50% 224 MB at 15-25% more CPU per request (four times as many full
// collections). A hard limit (--max-old-space-size) is not set: the live index of a storage
// full of small objects is most of its size, and a process at its limit dies rather than slow
// down; an operator who wants one passes it, and it is kept.

/** The flags, by name and value. */
const HEAP_FLAGS: readonly (readonly [name: string, value: string])[] = [
  ['--max-semi-space-size', '16'],
  ['--heap-growing-percent', '100'],
];

/** The flags the child gets: HEAP_FLAGS but those the operator gave node itself (`given`). */
export function childHeapFlags(given: readonly string[]): string[] {
  const named = (flag: string, name: string): boolean => {
    const f = flag.replaceAll('_', '-');
    return f === name || f.startsWith(`${name}=`);
  };
  return HEAP_FLAGS.filter(([name]) => !given.some((flag) => named(flag, name))).map(([name, value]) => `${name}=${value}`);
}
