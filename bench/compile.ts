// Compile-speed figures for the VCL front end: parse and check (builtin.vcl included) of a
// generated VCL of some 12,000 lines that looks like a large real site: backends with probes
// behind a director, ACLs, routing and normalisation subs full of regexes, header work and std
// calls, on the client and the backend side. Prints the median of several runs, lines per
// second, and peak memory. Target: under 300 ms for 10,000 lines. Run: `node bench/compile.ts`.

import { checkSource } from '../src/vcl/compile.ts';
import { formatDiagnostics } from '../src/vcl/diagnostics.ts';

const SITES = 104;
const RUNS = 9;
const WARMUP = 2;

/** One site: a backend, its ACL, a receive sub, a response sub and a deliver sub. */
function site(i: number): string {
  const host = `www${i}.example.com`;
  const re = host.replace(/\./g, '\\.');
  return `
probe probe_${i} {
    .url = "/health/${i}";
    .timeout = 2s;
    .interval = 5s;
    .window = 8;
    .threshold = 5;
}

backend app_${i} {
    .host = "10.0.${i % 250}.${(i * 7) % 250}";
    .port = "${8000 + i}";
    .connect_timeout = 1s;
    .first_byte_timeout = 30s;
    .between_bytes_timeout = 5s;
    .max_connections = ${100 + i};
    .probe = probe_${i};
}

acl editors_${i} {
    "10.${i % 250}.0.0"/16;
    "192.168.${i % 250}.0"/24;
    ! "192.168.${i % 250}.13";
    "2001:db8:${i.toString(16)}::"/48;
}

sub recv_site_${i} {
    if (req.http.host ~ "^(www\\.)?${re}$") {
        set req.backend_hint = app_${i};
        set req.http.X-Site = "site-${i}";
        if (req.method == "PURGE") {
            if (client.ip ~ editors_${i}) {
                return (purge);
            }
            return (synth(405, "Not allowed"));
        }
        if (req.url ~ "^/(admin|login|wp-admin|cart|checkout)(/|$)") {
            return (pass);
        }
        if (req.url ~ "\\.(css|js|png|gif|jpe?g|svg|woff2?|ico)(\\?.*)?$") {
            unset req.http.Cookie;
            set req.http.X-Static = "1";
        }
        set req.url = regsuball(req.url, "(\\?|&)(utm_[a-z]+|gclid|fbclid)=[^&]*", "\\1");
        set req.url = regsub(req.url, "(\\?|&)+$", "");
        set req.url = std.querysort(req.url);
        if (req.http.Cookie) {
            set req.http.Cookie = regsuball(req.http.Cookie, "(^|;\\s*)(_ga|_gid|__utm[a-z]+)=[^;]*", "");
            set req.http.Cookie = regsub(req.http.Cookie, "^;\\s*", "");
            if (req.http.Cookie ~ "^\\s*$") {
                unset req.http.Cookie;
            }
        }
        if (req.http.Accept-Language ~ "^de") {
            set req.http.X-Lang = "de";
        } elsif (req.http.Accept-Language ~ "^fr") {
            set req.http.X-Lang = "fr";
        } else {
            set req.http.X-Lang = "en";
        }
        if (std.integer(req.http.X-Page, 1) > ${10 + (i % 5)}) {
            set req.http.X-Deep-Page = "true";
        }
        set req.http.X-Forwarded-Host = std.tolower(req.http.host);
        std.log("site ${i}: " + req.url + " from " + client.ip);
        return (hash);
    }
}

sub response_site_${i} {
    if (bereq.http.X-Site == "site-${i}") {
        if (beresp.status >= 500 && bereq.retries < 2) {
            return (retry);
        }
        if (bereq.url ~ "\\.(css|js|png|gif|jpe?g|svg|woff2?|ico)(\\?.*)?$") {
            unset beresp.http.Set-Cookie;
            set beresp.ttl = ${i % 7 + 1}d;
            set beresp.grace = 6h;
        } elsif (beresp.http.Content-Type ~ "^text/html") {
            set beresp.ttl = ${(i % 10) + 1}m;
            set beresp.grace = 1h;
            set beresp.do_esi = true;
        } else {
            set beresp.ttl = std.duration(beresp.http.X-TTL, 2m);
        }
        if (beresp.http.Cache-Control ~ "(private|no-store)" || beresp.http.Set-Cookie) {
            set beresp.uncacheable = true;
            set beresp.ttl = 120s;
            return (deliver);
        }
        set beresp.http.X-Backend = beresp.backend.name;
        set beresp.keep = 1d + ${i}s;
    }
}

sub deliver_site_${i} {
    if (req.http.X-Site == "site-${i}") {
        set resp.http.X-Cache-Hits = obj.hits;
        set resp.http.X-Age = obj.age;
        if (obj.hits > 0) {
            set resp.http.X-Cache = "HIT";
        } else {
            set resp.http.X-Cache = "MISS";
        }
        if (!client.ip ~ editors_${i}) {
            unset resp.http.X-Backend;
            unset resp.http.Via;
            unset resp.http.X-Powered-By;
        }
        set resp.http.Server-Timing = "site;desc=" + req.http.X-Site + ", lang;desc=" + req.http.X-Lang;
    }
}
`;
}

/** The whole VCL: imports, every site, and the built-in subs calling the sites' subs. */
export function generateVcl(sites: number): string {
  const parts = ['vcl 4.1;\n\nimport std;\nimport directors;\n'];
  for (let i = 0; i < sites; i++) parts.push(site(i));
  const each = (f: (i: number) => string) => Array.from({ length: sites }, (_, i) => f(i)).join('\n');
  parts.push(`
sub vcl_init {
    new cluster = directors.round_robin();
${each((i) => `    cluster.add_backend(app_${i});`)}
}

sub vcl_recv {
    set req.backend_hint = cluster.backend();
    if (req.method !~ "^(GET|HEAD|POST|PUT|DELETE|OPTIONS|PURGE)$") {
        return (synth(501, "Not implemented"));
    }
${each((i) => `    call recv_site_${i};`)}
}

sub vcl_hash {
    hash_data(req.http.X-Lang);
}

sub vcl_backend_response {
${each((i) => `    call response_site_${i};`)}
}

sub vcl_deliver {
${each((i) => `    call deliver_site_${i};`)}
}
`);
  return parts.join('');
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const text = generateVcl(SITES);
  const lines = text.split('\n').length;
  const times: number[] = [];
  const cpuTimes: number[] = [];
  let peakRss = process.memoryUsage().rss;
  let peakHeap = process.memoryUsage().heapUsed;
  for (let run = 0; run < WARMUP + RUNS; run++) {
    const start = process.hrtime.bigint();
    const cpuStart = process.cpuUsage();
    const r = checkSource({ name: 'bench.vcl', text });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const cpu = process.cpuUsage(cpuStart);
    if (!r.checked) throw new Error(`the generated VCL does not check:\n${formatDiagnostics(r.diagnostics.sorted(), r.sources)}`);
    const mem = process.memoryUsage();
    peakRss = Math.max(peakRss, mem.rss);
    peakHeap = Math.max(peakHeap, mem.heapUsed);
    if (run >= WARMUP) {
      times.push(ms);
      cpuTimes.push((cpu.user + cpu.system) / 1000);
    }
  }
  const ms = median(times);
  const cpuMs = median(cpuTimes);
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
  console.log(`VCL parse + check: ${lines} lines, ${(text.length / 1024).toFixed(0)} KiB`);
  console.log(`  median ${ms.toFixed(1)} ms over ${RUNS} runs (min ${Math.min(...times).toFixed(1)}, max ${Math.max(...times).toFixed(1)})`);
  // CPU time is what the front end costs; wall time also counts whatever else the machine runs.
  console.log(`  median CPU time ${cpuMs.toFixed(1)} ms (min ${Math.min(...cpuTimes).toFixed(1)})`);
  console.log(`  ${Math.round((lines / ms) * 1000).toLocaleString('en')} lines/s`);
  console.log(`  peak RSS ${mb(peakRss)}, peak heap used ${mb(peakHeap)}`);
  console.log(`  target: 10,000 lines in under 300 ms -> ${((ms * 10_000) / lines).toFixed(1)} ms per 10,000 lines (${((cpuMs * 10_000) / lines).toFixed(1)} ms CPU)`);
}

if (import.meta.main) main();
