import { createHash } from 'node:crypto';
import { beforeEach, describe, expect, it } from 'vitest';
import type { Director, VmodContext } from '../../src/vmod/api.ts';
import { VmodFailure } from '../../src/vmod/api.ts';
import { round_robin, shard, shard_param } from './index.ts';
import type { ParamArgs } from './shard-params.ts';
import { backendTask, backends, clientTask, type FakeBackend, initTask, logged } from './test-backends.ts';

beforeEach(() => {
  logged.length = 0;
});

const U = undefined;

/** `.backend()` with named arguments, as VCL writes them. */
function pick(
  sh: InstanceType<typeof shard>,
  ctx: VmodContext,
  a: ParamArgs & { param?: Uint8Array | null; resolve?: 'NOW' | 'LAZY' } = {},
): Director | null {
  return sh.backend(ctx, a.by, a.key, a.key_blob, a.alt, a.warmup, a.rampup, a.healthy, a.param, a.resolve);
}

/** The shard of the Varnish reference runs: s1, s2, s3 (weight 2), s4 under ident "four". */
function referenceShard(): { sh: InstanceType<typeof shard>; list: FakeBackend[] } {
  const init = initTask();
  const list = backends('s1', 's2', 's3', 's4');
  const sh = new shard(init, 'sh');
  sh.add_backend(init, list[0], U, U, U);
  sh.add_backend(init, list[1], U, U, U);
  sh.add_backend(init, list[2], U, U, 2);
  sh.add_backend(init, list[3], 'four', U, U);
  expect(sh.reconfigure(init, 67)).toBe(true);
  return { sh, list };
}

const URLS = ['/', '/a', '/b', '/c', '/foo', '/bar', '/index.html', '/x/y/z', '/q?1', '/q?2', '/img.png', '/zz'];

describe('shard, against Varnish 7.1', () => {
  it('computes the same keys and picks the same members, all healthy', () => {
    // What varnishtest printed for each URL: shard.key(req.url), then backend(by=URL),
    // by=KEY with key("x" + url), alt=1..3, by=BLOB with the first 3 bytes of md5(url), and
    // the edge keys 0 and 2^32-1.
    const expected = [
      [4053860029, 's1', 's1', 's3', 's4', 's2', 's3'],
      [674911274, 's1', 's4', 's3', 's2', 's4', 's1'],
      [3406963862, 's3', 's3', 's2', 's1', 's4', 's3'],
      [3654614731, 's3', 's3', 's2', 's1', 's4', 's3'],
      [2499551155, 's3', 's3', 's4', 's1', 's2', 's1'],
      [1445554286, 's1', 's4', 's3', 's2', 's4', 's3'],
      [896376860, 's1', 's3', 's3', 's2', 's4', 's3'],
      [2318579875, 's3', 's1', 's2', 's1', 's4', 's3'],
      [3079208139, 's1', 's2', 's3', 's2', 's4', 's3'],
      [2336628570, 's2', 's3', 's3', 's1', 's4', 's1'],
      [651229458, 's2', 's4', 's3', 's1', 's4', 's3'],
      [3092571692, 's1', 's1', 's3', 's2', 's4', 's3'],
    ];
    const { sh } = referenceShard();
    const got = URLS.map((url) => {
      const ctx = clientTask(url, 'vcl_synth');
      const blob = createHash('md5').update(url).digest().subarray(0, 3);
      return [
        sh.key(ctx, [url]),
        pick(sh, ctx, { by: 'URL' })?.name,
        pick(sh, ctx, { by: 'KEY', key: sh.key(ctx, [`x${url}`]) })?.name,
        pick(sh, ctx, { by: 'URL', alt: 1 })?.name,
        pick(sh, ctx, { by: 'URL', alt: 2 })?.name,
        pick(sh, ctx, { by: 'URL', alt: 3 })?.name,
        pick(sh, ctx, { by: 'BLOB', key_blob: blob })?.name,
      ];
    });
    expect(got).toEqual(expected);
    const ctx = clientTask();
    expect(pick(sh, ctx, { by: 'KEY', key: 0 })?.name).toBe('s1');
    expect(pick(sh, ctx, { by: 'KEY', key: 4294967295 })?.name).toBe('s3');
  });

  it('walks past sick members as CHOSEN, ALL and IGNORE say', () => {
    // Varnish 7.1 with s2 and s3 set sick: by=URL, alt=1 and 2 (CHOSEN), alt=1..3 with ALL,
    // then IGNORE with alt=0 and alt=1.
    const expected: Record<string, string[]> = {
      '/': ['s1', 's4', 's4', 's4', 's1', 's4', 's1', 's3'],
      '/b': ['s1', 's1', 's1', 's4', 's1', 's4', 's3', 's2'],
      '/foo': ['s4', 's4', 's1', 's1', 's4', 's1', 's3', 's4'],
      '/q?2': ['s1', 's1', 's1', 's4', 's1', 's4', 's2', 's3'],
    };
    const { sh, list } = referenceShard();
    list[1].sick = list[2].sick = true;
    for (const [url, want] of Object.entries(expected)) {
      const ctx = clientTask(url, 'vcl_synth');
      const got = [
        pick(sh, ctx, { by: 'URL' }),
        pick(sh, ctx, { by: 'URL', alt: 1 }),
        pick(sh, ctx, { by: 'URL', alt: 2 }),
        pick(sh, ctx, { by: 'URL', alt: 1, healthy: 'ALL' }),
        pick(sh, ctx, { by: 'URL', alt: 2, healthy: 'ALL' }),
        pick(sh, ctx, { by: 'URL', alt: 3, healthy: 'ALL' }),
        pick(sh, ctx, { by: 'URL', healthy: 'IGNORE' }),
        pick(sh, ctx, { by: 'URL', alt: 1, healthy: 'IGNORE' }),
      ].map((d) => d?.name);
      expect([url, ...got]).toEqual([url, ...want]);
    }
  });

  it('builds the same ring for few replicas', () => {
    const init = initTask();
    const [s1, s2] = backends('s1', 's2');
    const sh2 = new shard(init, 'sh2');
    sh2.add_backend(init, s1, U, U, U);
    sh2.add_backend(init, s2, U, U, U);
    sh2.reconfigure(init, 5);
    const got = ['/', '/b', '/q?1', '/q?2', '/zz'].map((url) => pick(sh2, clientTask(url), { by: 'URL' })?.name);
    expect(got).toEqual(['s1', 's2', 's2', 's1', 's2']);
  });
});

describe('shard reconfiguration', () => {
  it('applies changes at reconfigure(), or by itself once the current code has run', async () => {
    const init = initTask();
    const [a, b] = backends('a', 'b');
    const sh = new shard(init, 'sh');
    sh.add_backend(init, a, U, U, U);
    const ctx = clientTask();
    expect(pick(sh, ctx)).toBeNull();
    expect(logged).toContain('vmod_directors: shard sh: no backends');
    await Promise.resolve();
    expect(pick(sh, ctx)).toBe(a);
    sh.add_backend(init, b, U, U, U);
    sh.remove_backend(init, a, U);
    expect(sh.healthy(ctx)).toBe(true);
    expect(sh.reconfigure(init, 67)).toBe(true);
    expect(pick(sh, ctx)).toBe(b);
  });

  it('skips a member added twice, removes every instance of a backend, or one ident', () => {
    const init = initTask();
    const [a, b] = backends('a', 'b');
    const sh = new shard(init, 'sh');
    sh.add_backend(init, a, U, U, U);
    sh.add_backend(init, a, U, U, U);
    sh.add_backend(init, a, 'a-bis', U, U);
    sh.add_backend(init, b, U, U, U);
    sh.reconfigure(init, 67);
    expect(logged).toContain('vmod_directors: shard sh: backend a already exists - skipping');
    const ctx = clientTask();
    // With a under two idents, alt=2 reaches the third member.
    expect(pick(sh, ctx, { by: 'KEY', key: 1, alt: 2 })).not.toBeNull();
    sh.remove_backend(init, U, 'a-bis');
    sh.reconfigure(init, 67);
    const seen = new Set([0, 1, 2].map((alt) => pick(sh, ctx, { by: 'KEY', key: 7, alt })?.name));
    expect(seen).toEqual(new Set(['a', 'b']));
    sh.add_backend(init, a, 'a-bis', U, U);
    sh.remove_backend(init, a, U);
    sh.reconfigure(init, 67);
    expect(new Set([0, 1, 2].map((alt) => pick(sh, ctx, { by: 'KEY', key: 7, alt })?.name))).toEqual(new Set(['b']));
  });

  it('clears, refuses an empty ring and bad replicas', () => {
    const init = initTask();
    const [a] = backends('a');
    const sh = new shard(init, 'sh');
    sh.add_backend(init, a, U, U, U);
    sh.reconfigure(init, 67);
    expect(sh.reconfigure(init, 0)).toBe(false);
    expect(logged).toContain('vmod_directors: shard sh: .reconfigure() invalid replicas argument 0');
    sh.clear(init);
    expect(sh.reconfigure(init, 67)).toBe(false);
    expect(logged).toContain('vmod_directors: shard sh: .reconfigure() no backends');
    expect(sh.healthy(null)).toBe(false);
    expect(pick(sh, clientTask())).toBeNull();
  });

  it('fails the task on a None backend or a removal that names nothing', () => {
    const init = initTask();
    const sh = new shard(init, 'sh');
    expect(() => sh.add_backend(init, null, U, U, U)).toThrow(
      new VmodFailure('vmod_directors: shard sh: NULL backend cannot be added'),
    );
    expect(() => sh.remove_backend(init, U, U)).toThrow(VmodFailure);
  });

  it('ignores a weight below 1 and places a heavier member more often', () => {
    const init = initTask();
    const [a, b] = backends('a', 'b');
    const sh = new shard(init, 'sh');
    sh.add_backend(init, a, U, U, 0.5);
    sh.add_backend(init, b, U, U, 4);
    sh.reconfigure(init, 67);
    expect(logged).toContain('vmod_directors: shard sh: .add_backend(weight=0.500000) ignored');
    let forB = 0;
    for (let k = 0; k < 400; k++) if (pick(sh, clientTask(), { by: 'KEY', key: k * 10_000_019 })?.name === 'b') forB++;
    expect(forB).toBeGreaterThan(250);
  });
});

describe('shard lookups', () => {
  it('checks its arguments as Varnish does', () => {
    const { sh } = referenceShard();
    const ctx = clientTask();
    const prefix = 'vmod_directors: shard sh: shard.backend()';
    expect(() => pick(sh, ctx, { by: 'KEY' })).toThrow(new VmodFailure(`${prefix} missing key argument with by=KEY`));
    expect(() => pick(sh, ctx, { by: 'KEY', key: -1 })).toThrow(new VmodFailure(`${prefix} invalid key argument -1 with by=KEY`));
    expect(() => pick(sh, ctx, { by: 'URL', key: 1 })).toThrow(
      new VmodFailure(`${prefix} key and key_blob arguments are invalid with by=URL`),
    );
    expect(() => pick(sh, ctx, { by: 'BLOB' })).toThrow(new VmodFailure(`${prefix} missing key_blob argument with by=BLOB`));
    expect(() => pick(sh, ctx, { alt: -1 })).toThrow(new VmodFailure(`${prefix} invalid alt argument -1`));
    expect(() => pick(sh, ctx, { warmup: 2 })).toThrow(new VmodFailure(`${prefix} invalid warmup argument 2.000000`));
    expect(pick(sh, ctx, { by: 'BLOB', key_blob: null })).toBe(pick(sh, ctx, { by: 'KEY', key: 0 }));
    expect(logged).toContain(`${prefix} by=BLOB but no or empty key_blob - using key 0`);
    expect(pick(sh, ctx, { by: 'KEY', key: 5, alt: 9 })).toBe(pick(sh, ctx, { by: 'KEY', key: 5, alt: 3 }));
    expect(logged).toContain('vmod_directors: shard sh: parameter alt=9 limited to 3');
  });

  it('hashes the URL on the client side and the request hash on the backend side', () => {
    const { sh } = referenceShard();
    const url = '/foo';
    const client = clientTask(url);
    expect(pick(sh, client)).toBe(pick(sh, client, { by: 'URL' }));
    const digest = createHash('sha256').update('anything').digest();
    const key = digest.readUInt32BE(0);
    const be = backendTask(url, digest);
    expect(pick(sh, be)).toBe(pick(sh, clientTask(), { by: 'KEY', key }));
    expect(pick(sh, backendTask(url, digest), { by: 'URL' })).toBe(pick(sh, client, { by: 'URL' }));
  });

  it('resolves lazily: the director itself, then the member at fetch time', () => {
    const { sh } = referenceShard();
    const init = initTask();
    expect(pick(sh, init)).toBe(sh);
    expect(() => pick(sh, init, { resolve: 'NOW' })).toThrow(
      new VmodFailure('vmod_directors: shard sh: .backend(resolve=NOW) can not be used in vcl_init{}/vcl_fini{}'),
    );
    expect(pick(sh, clientTask(), { resolve: 'LAZY' })).toBe(sh);
    expect(() => pick(sh, clientTask(), { resolve: 'LAZY', alt: 1 })).toThrow(VmodFailure);
    // On the backend side, arguments given with LAZY hold for this task's resolution.
    const fetch = backendTask('/x');
    expect(pick(sh, fetch, { resolve: 'LAZY', by: 'KEY', key: 1234 })).toBe(sh);
    expect(sh.resolve(fetch)).toBe(pick(sh, clientTask(), { by: 'KEY', key: 1234 }));
    // Another task starts from the defaults again.
    const otherDigest = createHash('sha256').update('x').digest();
    const other = backendTask('/x', otherDigest);
    expect(sh.resolve(other)).toBe(pick(sh, clientTask(), { by: 'KEY', key: otherDigest.readUInt32BE(0) }));
  });

  it('honours warmup and rampup', () => {
    const { sh, list } = referenceShard();
    const ctx = clientTask('/');
    const own = pick(sh, ctx, { by: 'URL' });
    const next = pick(sh, ctx, { by: 'URL', alt: 1 });
    expect(own).not.toBe(next);
    // warmup=1: every request warms the next member.
    expect(pick(sh, ctx, { by: 'URL', warmup: 1 })).toBe(next);
    expect(pick(sh, ctx, { by: 'URL', warmup: 0 })).toBe(own);
    // A member that just became healthy, with a rampup time, passes its requests on...
    sh.set_rampup(ctx, 60);
    const chosen = list.find((b) => b === own)!;
    chosen.setSick(false, ctx.now);
    expect(pick(sh, ctx, { by: 'URL' })).toBe(next);
    expect(pick(sh, ctx, { by: 'URL', rampup: false })).toBe(own);
    // ...unless the next one is ramping up too.
    list.find((b) => b === next)!.setSick(false, ctx.now);
    expect(pick(sh, ctx, { by: 'URL' })).toBe(own);
    sh.set_warmup(ctx, 1.5);
    expect(logged).toContain('vmod_directors: shard sh: .set_warmup(1.500000) ignored');
  });

  it('reports its health and nests', () => {
    const init = initTask();
    const [a, b] = backends('a', 'b');
    const rr = new round_robin(init, 'rr');
    rr.add_backend(init, a);
    rr.add_backend(init, b);
    const sh = new shard(init, 'sh');
    sh.add_backend(init, rr.backend(init), U, U, U);
    sh.reconfigure(init, 67);
    const ctx = clientTask();
    expect(pick(sh, ctx)).toBe(rr);
    expect([sh.resolve(ctx), sh.resolve(ctx)]).toEqual([a, b]);
    a.setSick(true, 10);
    b.setSick(true, 20);
    expect(sh.healthy(ctx)).toBe(false);
    expect(sh.changed).toBe(20);
    expect(pick(sh, ctx)).toBeNull();
    expect(pick(sh, ctx, { healthy: 'IGNORE' })).toBe(rr);
  });
});

describe('shard_param', () => {
  function setup() {
    const init = initTask();
    const { sh } = referenceShard();
    const p = new shard_param(init, 'p');
    p.set(init, 'KEY', 1234, U, U, U, U, U);
    sh.associate(init, p.use(init));
    return { init, sh, p };
  }

  it('supplies the defaults of an associated director', () => {
    const { sh, p } = setup();
    const ctx = clientTask('/foo');
    expect(pick(sh, ctx)).toBe(pick(sh, ctx, { by: 'KEY', key: 1234 }));
    expect(p.get_by(ctx)).toBe('KEY');
    expect(p.get_key(ctx)).toBe(1234);
    expect(p.get_alt(ctx)).toBe(0);
    expect(p.get_warmup(ctx)).toBe(-1);
    expect(p.get_rampup(ctx)).toBe(true);
    expect(p.get_healthy(ctx)).toBe('CHOSEN');
    // Arguments of the call still win: '/foo' by URL is s3 (see the reference runs above).
    expect(pick(sh, ctx, { by: 'URL' })?.name).toBe('s3');
    expect(pick(sh, ctx)?.name).not.toBe('s3');
    sh.associate(ctx, null);
    expect(pick(sh, ctx)).toBe(pick(sh, ctx, { by: 'URL' }));
  });

  it('changes on the backend side hold for that task only', () => {
    const { sh, p } = setup();
    const fetch = backendTask('/foo');
    p.set(fetch, U, U, U, 1, U, U, U);
    expect(p.get_alt(fetch)).toBe(1);
    // set() replaces the values: by is back to its default for this task.
    expect(p.get_by(fetch)).toBe('KEY');
    expect(sh.resolve(fetch)).toBe(pick(sh, clientTask(), { by: 'KEY', key: 1234, alt: 1 }));
    const other = backendTask('/foo');
    expect(p.get_alt(other)).toBe(0);
    expect(sh.resolve(other)).toBe(pick(sh, clientTask(), { by: 'KEY', key: 1234 }));
    p.clear(fetch);
    expect(p.get_by(fetch)).toBe('KEY');
  });

  it('may not be changed on the client side, and refuses a blob that is not its own', () => {
    const { sh, p } = setup();
    const ctx = clientTask();
    expect(() => p.set(ctx, 'URL', U, U, U, U, U, U)).toThrow(
      new VmodFailure('vmod_directors: shard p: shard_param.set() may only be used in vcl_init and in backend/pipe context'),
    );
    expect(() => sh.associate(ctx, new Uint8Array([1, 2]))).toThrow(
      new VmodFailure('vmod_directors: shard sh: shard .associate param invalid'),
    );
    expect(() => pick(sh, ctx, { param: new Uint8Array(4) })).toThrow(VmodFailure);
    const q = new shard_param(initTask(), 'q');
    q.set(initTask(), U, U, U, 2, U, U, U);
    expect(pick(sh, ctx, { param: q.use(ctx), by: 'KEY', key: 99 })).toBe(pick(sh, ctx, { by: 'KEY', key: 99, alt: 2 }));
  });

  it('clears back to the built-in defaults in vcl_init', () => {
    const { init, p } = setup();
    p.clear(init);
    const ctx = clientTask('/');
    expect(p.get_by(ctx)).toBe('HASH');
    expect(p.get_healthy(ctx)).toBe('CHOSEN');
  });
});
