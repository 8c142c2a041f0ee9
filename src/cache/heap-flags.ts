// V8 heap flags and allocator settings for the process that holds the cache (the manager's
// child). A storage keeps its bytes in slabs outside the JS heap and pays for its objects' index
// from its size, but the process holds more than that: request garbage promoted between full
// collections, a young generation of up to 64 MB a semi-space pair by default, and malloc's
// arenas. These bound that slack without a hard limit (and dead-buffers.ts has the Buffers the
// backend's reads leave collected before V8 would):
// - a young generation of 4 MB semi-spaces (V8's default grows to 32 MB: 64 MB resident). Its
//   size also sets how long dead Buffers wait: Node's socket reads are 64 KB each, and a body
//   read from a backend leaves its Buffers to the next scavenge, which small objects alone
//   bring about only every few MB of their own;
// - the old generation may grow to twice what the last full collection found live (V8's own
//   factor reaches 4 on a busy process);
// - one malloc arena (MALLOC_ARENA_MAX=1, glibc): V8's compiler threads take their zone memory
//   (25 MB at its peak at start-up) from arenas of their own, which keep it once freed; in the
//   main arena the body Buffers use it again;
// - a fixed mmap threshold of 128 KB (MALLOC_MMAP_THRESHOLD_: glibc's own rises to the size of
//   the largest mapped block freed, up to 32 MB, after which the object table's pages and the
//   index's arrays come from the main arena and stay there once freed). With it, what those
//   arrays give back when fewer objects are left (id-pool.ts) leaves the process: filling 256 MB
//   with 330,000 small objects and then 10 KB ones, 447 MB of RSS without, 409 with. Nothing on
//   a request's path asks malloc for 128 KB or more (socket reads are 64 KB, bodies go to slabs).
// Measured (docs/storage.md): the e2e fill of a 16 MB storage peaked at 206-216 MB with 16 MB
// semi-spaces and no arena setting, 189-197 MB with either 8 MB semi-spaces or one arena,
// 172-178 MB with both, 160-164 MB with 4 MB semi-spaces and one arena; the soak's RSS after
// 20 s went from 240-285 MB to 198-201 MB (8 MB), and its rate did not move beyond the
// machine's noise (6,589 and 6,622 req/s with 8 MB semi-spaces, 6,019 and 7,677 with 4, taking
// turns at load 3.5 to 4; twice the scavenges, no pause over 62 ms). Earlier trials: 16 MB semi-spaces cut the
// soak's RSS from 359 to 289 MB, the growth of 100% to 263 MB; a growth of 50% cost 15-25%
// more CPU per request. A hard limit (--max-old-space-size) is not set: the live index of a
// storage full of small objects is most of its size, and a process at its limit dies rather
// than slow down; an operator who wants one passes it, and it is kept.

/** The flags, by name and value. */
const HEAP_FLAGS: readonly (readonly [name: string, value: string])[] = [
  ['--max-semi-space-size', '4'],
  ['--heap-growing-percent', '100'],
];

/** The environment the child gets besides the manager's own, by name and value. */
const CHILD_ENV: readonly (readonly [name: string, value: string])[] = [
  ['MALLOC_ARENA_MAX', '1'],
  ['MALLOC_MMAP_THRESHOLD_', String(128 * 1024)],
];

/** The flags the child gets: HEAP_FLAGS but those the operator gave node itself (`given`). */
export function childHeapFlags(given: readonly string[]): string[] {
  const named = (flag: string, name: string): boolean => {
    const f = flag.replaceAll('_', '-');
    return f === name || f.startsWith(`${name}=`);
  };
  return HEAP_FLAGS.filter(([name]) => !given.some((flag) => named(flag, name))).map(([name, value]) => `${name}=${value}`);
}

/** The variables the child gets: CHILD_ENV but those already set in `env` (the operator's). */
export function childEnv(env: Readonly<Record<string, string | undefined>>): Record<string, string> {
  return Object.fromEntries(CHILD_ENV.filter(([name]) => env[name] === undefined));
}
