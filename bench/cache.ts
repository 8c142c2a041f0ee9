// Cache hit-path figures: lookups per second for a plain hit, a hit among Vary variants, and a
// hit after a ban (the first lookup of each object tests the ban, the rest do not). Run with
// `node bench/cache.ts`.

import { Cache } from '../src/cache/store.ts';
import { keyOfText } from '../src/cache/digest.ts';
import { buildVary } from '../src/cache/vary.ts';
import { VclHttp } from '../src/runtime/http.ts';

const N = 2_000_000;
const KEYS = 10_000;
const NOW = Date.now() / 1000;

function request(url: string, lang?: string): VclHttp {
  const http = VclHttp.request('GET', url);
  http.append('Host', 'example.com');
  if (lang !== undefined) http.append('Accept-Language', lang);
  return http;
}

function fill(cache: Cache, keys: string[], langs: (string | undefined)[]): void {
  for (const key of keys) {
    for (const lang of langs) {
      const req = request('/', lang);
      const r = cache.lookup(key, req, NOW, { hashAlwaysMiss: true });
      if (r.kind !== 'miss') throw new Error(r.kind);
      const vary = lang === undefined ? null : buildVary('Accept-Language', req);
      const spec = vary !== null && 'spec' in vary ? vary.spec : null;
      cache.commit(r.fetch, { xid: 1, http: VclHttp.response(200, 'OK'), origin: NOW, ttl: 3600, grace: 10, keep: 0, vary: spec, body: [Buffer.alloc(1024)] }, NOW);
    }
  }
}

function run(name: string, cache: Cache, keys: string[], req: VclHttp): void {
  let hits = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) if (cache.lookup(keys[i % KEYS], req, NOW).kind === 'hit') hits++;
  const ns = Number(process.hrtime.bigint() - start);
  if (hits !== N) throw new Error(`${name}: ${hits} hits of ${N}`);
  console.log(`${name.padEnd(28)} ${((N / ns) * 1e9 / 1e6).toFixed(2)} M lookups/s  ${(ns / N).toFixed(0)} ns each`);
}

const keys = Array.from({ length: KEYS }, (_, i) => keyOfText(`example.com/page/${i}`));

const plain = new Cache();
fill(plain, keys, [undefined]);
run('hit', plain, keys, request('/'));

const varied = new Cache();
fill(varied, keys, ['en', 'fr', 'de']);
run('hit, 3rd of 3 variants', varied, keys, request('/', 'de'));

const banned = new Cache();
fill(banned, keys, [undefined]);
banned.ban('obj.http.x-tag == nothing', NOW);
run('hit after a ban', banned, keys, request('/'));
