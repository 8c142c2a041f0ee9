// The operator tools against a running `shellac serve` with real traffic: `top` and `hist` once
// (-1, plain lines) and drawing in a real terminal (tmux), /metrics parsed by the text format's
// rules and checked for the conventions, the Grafana dashboard's every metric served, and the
// log file reopened on SIGUSR1.

import { type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { get, type Origin, startOrigin } from '../helpers/proxy.ts';
import { conventionProblems, type PromFamily, parsePromText } from '../helpers/prom-text.ts';
import { adm, MAIN, NODE, ROOT, readWhileTraffic, type Served, serve, shellac, tempDir, writeIn } from './helpers.ts';

const VCL = `vcl 4.1;
backend default { .host = "127.0.0.1"; .port = "ORIGIN_PORT"; }
sub vcl_recv {
  if (req.url ~ "^/synth") { return (synth(404)); }
  if (req.url ~ "^/pass") { return (pass); }
  if (req.url ~ "^/pipe") { return (pipe); }
}
sub vcl_backend_response { set beresp.ttl = 1h; }
`;

let origin: Origin;
let served: Served;
let logFile: string;
let target: string[];

beforeAll(async () => {
  origin = await startOrigin((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from the origin\n');
  });
  const dir = tempDir();
  logFile = join(dir, 'shellac.log');
  const vcl = writeIn(dir, 'a.vcl', VCL.replace('ORIGIN_PORT', String(origin.port)));
  served = await serve(['-f', vcl, '-p', 'metrics_listen=127.0.0.1:0', '--log-level', 'info', '--log-file', logFile]);
  target = ['-T', `127.0.0.1:${served.adminPort}`, '-S', served.secretFile];
}, 30_000);

afterAll(async () => {
  await served?.stop();
  await origin?.close();
});

/** One round of traffic: hits on /hot (after its first miss), a pass, a synth, a miss. */
async function traffic(round: number): Promise<void> {
  for (let i = 0; i < 3; i++) await get(served.port, '/hot');
  await get(served.port, '/pass');
  await get(served.port, '/synth');
  await get(served.port, `/cold${round}`);
}

let reader: ChildProcess | undefined;
afterEach(() => {
  reader?.kill('SIGTERM');
  reader = undefined;
});

/** Runs a reader to its end while traffic flows (a round every 200 ms, at most 75), bounded in time. */
function runWithTraffic(args: string[]): Promise<{ code: number | null; out: string }> {
  const r = readWhileTraffic(args, traffic, { everyMs: 200, rounds: 75, timeoutMs: 20_000 });
  reader = r.proc;
  return r.result;
}

describe('shellac top', () => {
  it('-1 prints one ranking of the chosen tag, most frequent first', async () => {
    const { code, out } = await runWithTraffic(['top', ...target, '-1', '-c', '-i', 'ReqURL', '--count', '40']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ +\d+\.00 ReqURL \/hot$/);
    const count = (url: string) => Number(lines.find((l) => l.endsWith(` ${url}`))?.trim().split(' ')[0]);
    expect(count('/hot')).toBeGreaterThan(count('/pass'));
    expect(count('/pass')).toBeGreaterThan(0);
    expect(lines.every((l) => / ReqURL \//.test(l))).toBe(true);
  });

  it('-I picks lines by a regex on one tag; a bad tag is a usage error', async () => {
    const { code, out } = await runWithTraffic(['top', ...target, '-1', '-I', 'RespStatus:^404$', '--count', '30']);
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\d+\.00 RespStatus 404$/);
    const bad = await shellac(['top', ...target, '-i', 'NoSuchTag']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('-i NoSuchTag: unknown tag');
  });
});

describe('shellac top -i, for every tag shellac log prints', () => {
  it('-i BackendOpen ranks the backend connections fetches went out on, as varnishtop does', async () => {
    const { code, out } = await runWithTraffic(['top', ...target, '-1', '-i', 'BackendOpen', '--count', '30']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    // fd, backend, remote address and port, local address and port, connect or reuse.
    const shape = new RegExp(`^ +\\d+\\.00 BackendOpen \\d+ default 127\\.0\\.0\\.1 ${origin.port} 127\\.0\\.0\\.1 \\d+ (connect|reuse)$`);
    for (const l of lines) expect(l).toMatch(shape);
    // The origin keeps connections alive: later fetches reuse them.
    expect(out).toContain(' reuse');
  });

  it('takes every tag of shellac log at once, and ranks lines of each side', async () => {
    const { TX_TAGS } = await import('../../src/mgmt/log-text.ts');
    const { code, out } = await runWithTraffic(['top', ...target, '-1', '-i', TX_TAGS.join(','), '--count', '40']);
    expect(code).toBe(0);
    const seen = new Set(out.trimEnd().split('\n').map((l) => l.trim().split(/ +/)[1]));
    for (const tag of ['ReqStart', 'VCL_use', 'ReqURL', 'RespStatus', 'VCL_call', 'Timestamp', 'ReqAcct', 'BereqURL', 'BerespStatus', 'BackendOpen', 'BereqAcct']) expect(seen).toContain(tag);
    expect([...seen].filter((t) => !TX_TAGS.includes(t))).toEqual([]);
  });
});

describe('shellac top and hist: -q, -f, -b and -n', () => {
  it('top -q keeps the records a query selects, -f the first field, -b the backend side', async () => {
    const q = await runWithTraffic(['top', ...target, '-1', '-c', '-f', '-i', 'ReqHeader', '-q', 'ReqURL eq "/pass"', '--count', '20']);
    expect(q.code).toBe(0);
    // Only /pass requests, each with one Host line: -f keeps the header's name.
    expect(q.out).toMatch(/^ *\d+\.00 ReqHeader host:$/im);
    expect(q.out.trim().split('\n').every((l) => / ReqHeader \S+:$/.test(l))).toBe(true);
    const b = await runWithTraffic(['top', ...target, '-1', '-b', '-i', 'BereqURL,ReqURL', '--count', '20']);
    expect(b.code).toBe(0);
    const lines = b.out.trimEnd().split('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.every((l) => / BereqURL \//.test(l))).toBe(true);
  });

  it('hist -q draws only the records a query selects, found through the work dir (-n)', async () => {
    // /hot's miss goes first, before the reader attaches: it then sees hits only.
    await get(served.port, '/hot');
    const { code, out } = await runWithTraffic(['hist', '-n', join(served.dir, 'work'), '-1', '-q', 'ReqURL eq "/hot"', '--count', '30']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(Number(/n = (\d+)/.exec(lines[0])?.[1])).toBeGreaterThan(0);
    // Hits only: no # column.
    const bars = lines.slice(1, 22).join('\n');
    expect(bars).toContain('|');
    expect(bars).not.toContain('#');
  });
});

describe('shellac top, not on a terminal', () => {
  it('writes each refresh as plain lines, with no terminal codes', async () => {
    const { code, out } = await runWithTraffic(['top', ...target, '-i', 'ReqURL', '-w', '0.3', '--count', '60']);
    expect(code).toBe(0);
    expect(out).not.toContain('\x1b');
    const screens = out.split('\n\n').filter((x) => x.startsWith('list length'));
    expect(screens.length).toBeGreaterThan(0);
    expect(out).toMatch(/^ +\d+\.\d\d ReqURL {9}\/hot$/m);
  });
});

describe('shellac hist', () => {
  it('-1 draws hits with | and misses with # over a log axis', async () => {
    const { code, out } = await runWithTraffic(['hist', ...target, '-1', '--count', '60']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines).toHaveLength(24);
    expect(lines[0]).toMatch(/^1:\d+, n = \d+ +responsetime$/);
    expect(Number(/n = (\d+)/.exec(lines[0])?.[1])).toBeGreaterThan(10);
    const bars = lines.slice(1, 22).join('\n');
    expect(bars).toContain('|');
    expect(bars).toContain('#');
    expect(lines[22]).toMatch(/^\+-+\+/);
    expect(lines[23]).toMatch(/^\|1e-6 +\|1e-5 +\|1e-4/);
  });

  it('-P Beresptime draws backend times to first byte; a bad profile is a usage error', async () => {
    const { code, out } = await runWithTraffic(['hist', ...target, '-1', '-P', 'Beresptime', '--count', '60']);
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toMatch(/^1:\d+, n = [1-9]\d* +Beresptime$/);
    expect(out).not.toContain('|1e-7');
    const bad = await shellac(['hist', ...target, '-P', 'nothing']);
    expect(bad.code).toBe(2);
  });
});

describe('in a terminal', () => {
  // A tmux server of our own (its socket in a temporary folder), so no one else's sessions are
  // seen or touched.
  const socket = join(tempDir(), 'tmux.sock');
  const sessions: string[] = [];
  afterAll(() => {
    try {
      execFileSync('tmux', ['-S', socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // Already gone: every command ended.
    }
  });

  function tmux(...args: string[]): string {
    return execFileSync('tmux', ['-S', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  }

  /** Starts `shellac ARGS` in a detached tmux session of `cols` × `rows`. */
  function open(args: string[], cols: number, rows: number): string {
    const name = `s${sessions.length}`;
    sessions.push(name);
    const command = [NODE, MAIN, ...args].map((a) => `'${a}'`).join(' ');
    tmux('new-session', '-d', '-s', name, '-x', String(cols), '-y', String(rows), '-c', ROOT, command);
    return name;
  }

  /** Captures the pane until `want` holds, sending traffic meanwhile (bounded: 15 s). */
  async function until(session: string, want: (screen: string[]) => boolean): Promise<string[]> {
    const deadline = Date.now() + 15_000;
    let screen: string[] = [];
    for (let round = 1; Date.now() < deadline; round++) {
      await traffic(round);
      screen = tmux('capture-pane', '-p', '-t', session).split('\n');
      if (want(screen)) return screen;
      await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`the screen never showed what was expected:\n${screen.join('\n')}`);
  }

  function alive(session: string): boolean {
    try {
      tmux('has-session', '-t', session);
      return true;
    } catch {
      return false;
    }
  }

  it('top draws its screen in place and ends on q', async () => {
    const s = open(['top', ...target, '-i', 'ReqURL'], 100, 20);
    // What the program writes to the terminal, byte for byte.
    const raw = join(tempDir(), 'tty.raw');
    tmux('pipe-pane', '-o', '-t', s, `cat >> '${raw}'`);
    const screen = await until(s, (l) => l[0].startsWith('list length') && l.some((x) => /^ +\d+\.\d\d ReqURL {9}\/hot$/.test(x)));
    await until(s, () => existsSync(raw) && (readFileSync(raw, 'latin1').match(/\x1b\[H/g)?.length ?? 0) >= 2);
    // No flicker: screens are written over the last one (cursor home, erase to end of line),
    // never after clearing the screen.
    const bytes = readFileSync(raw, 'latin1');
    expect(bytes).not.toContain('\x1b[2J');
    expect(bytes).toContain('\x1b[K');
    // The header carries the instance at the right edge, as varnishtop's.
    expect(screen[0]).toMatch(/^list length \d+ +127\.0\.0\.1:\d+$/);
    expect(screen[0]).toHaveLength(99);
    tmux('send-keys', '-t', s, 'q');
    const deadline = Date.now() + 5000;
    while (alive(s) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(alive(s)).toBe(false);
  });

  it('hist draws to the terminal size and redraws when it is resized', async () => {
    const s = open(['hist', ...target], 100, 24);
    const wide = await until(s, (l) => l[22]?.startsWith('+') && /n = [1-9]/.test(l[0]));
    expect(wide[22].trimEnd()).toHaveLength(100);
    expect(wide.slice(1, 22).join('')).toMatch(/[|#]/);
    tmux('resize-window', '-t', s, '-x', '60', '-y', '16');
    const narrow = await until(s, (l) => l[14]?.startsWith('+') && l[14].trimEnd().length === 60);
    expect(narrow[15]).toMatch(/^\|1e-6/);
    tmux('send-keys', '-t', s, 'q');
  });
});

describe('GET /metrics', () => {
  let families: Map<string, PromFamily>;

  beforeAll(async () => {
    for (let round = 0; round < 3; round++) await traffic(100 + round);
    expect((await get(served.port, '/pipe', { headers: { connection: 'close' } })).status).toBe(200);
    // A pipe's request ends when its tunnel closes, a moment after the client has its answer.
    let r = await get(served.metricsPort ?? 0, '/metrics');
    const piped = /^shellac_request_duration_seconds_count\{handling="pipe"\} [1-9]/m;
    for (let i = 0; i < 100 && !piped.test(r.body); i++) {
      await new Promise((done) => setTimeout(done, 50));
      r = await get(served.metricsPort ?? 0, '/metrics');
    }
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toContain('text/plain; version=0.0.4');
    families = parsePromText(r.body);
  });

  it('follows the conventions: TYPE and HELP, counters in _total, base units, cumulative histograms', () => {
    const problems = [...families.values()].flatMap(conventionProblems);
    expect(problems).toEqual([]);
    expect(families.get('shellac_main_client_req_total')?.type).toBe('counter');
    expect(families.get('shellac_main_s_resp_body_bytes_total')?.samples[0].value).toBeGreaterThan(0);
    expect(families.get('shellac_sma_g_bytes')?.samples[0].labels).toEqual({ storage: 's0' });
    expect(families.get('shellac_vbe_req_total')?.samples[0].labels).toEqual({ vcl: 'boot', backend: 'default' });
  });

  it('measures request duration by handling and backend times by backend', () => {
    const count = (fam: string, labels: Record<string, string>) =>
      families.get(fam)?.samples.find((s) => s.name === `${fam}_count` && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value ?? 0;
    for (const handling of ['hit', 'miss', 'pass', 'synth']) expect(count('shellac_request_duration_seconds', { handling })).toBeGreaterThan(0);
    expect(count('shellac_request_duration_seconds', { handling: 'pipe' })).toBe(1);
    expect(count('shellac_backend_first_byte_seconds', { backend: 'default' })).toBeGreaterThan(0);
    expect(count('shellac_backend_fetch_duration_seconds', { backend: 'default' })).toBeGreaterThan(0);
    expect(families.get('shellac_request_duration_seconds')?.samples.some((s) => s.labels.le === '0.0001')).toBe(true);
    expect(families.get('shellac_vcl_info')?.samples).toEqual([{ name: 'shellac_vcl_info', labels: { vcl: 'boot', temperature: 'warm' }, value: 1 }]);
    expect(families.get('shellac_backend_healthy')?.samples).toEqual([{ name: 'shellac_backend_healthy', labels: { vcl: 'boot', backend: 'default' }, value: 1 }]);
  });

  it('serves every metric the Grafana dashboard queries', () => {
    const dashboard = JSON.parse(readFileSync(join(ROOT, 'contrib/grafana/shellac.json'), 'utf8')) as unknown;
    const panels = (dashboard as { panels: { id: number; type: string; gridPos: { x: number; w: number } }[] }).panels;
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    expect(panels.every((p) => p.gridPos.x + p.gridPos.w <= 24)).toBe(true);
    const queries = promQueries(dashboard);
    expect(queries.length).toBeGreaterThan(20);
    const served = new Set<string>();
    for (const f of families.values()) {
      served.add(f.name);
      for (const s of f.samples) served.add(s.name);
    }
    const used = new Set(queries.flatMap(metricsIn));
    expect(used.size).toBeGreaterThan(15);
    expect([...used].filter((m) => !served.has(m))).toEqual([]);
    // The check can fail: a name the exporter does not serve is caught.
    expect(metricsIn('sum by (backend) (rate(shellac_vbe_nothing_total{job=~"$job"}[$__rate_interval])) / 2').filter((m) => !served.has(m))).toEqual([
      'shellac_vbe_nothing_total',
    ]);
  });
});

/** Every PromQL text of a dashboard: panel targets' `expr` and query variables' `query`. */
function promQueries(node: unknown, key = ''): string[] {
  if (typeof node === 'string') return key === 'expr' || key === 'query' ? [node] : [];
  if (Array.isArray(node)) return node.flatMap((n) => promQueries(n));
  if (node && typeof node === 'object') return Object.entries(node).flatMap(([k, v]) => promQueries(v, k));
  return [];
}

/** PromQL words that are not metric names. */
const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'and', 'or', 'unless', 'offset', 'prometheus']);

/** The metric names a PromQL expression (or a label_values() query) reads. */
function metricsIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ') // label lists
    .replace(/,\s*[a-z_]+\s*\)/g, ')'); // label_values(metric, label): the label
  const out: string[] = [];
  for (const m of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const word = m[0];
    const after = bare.slice((m.index ?? 0) + word.length).trimStart();
    if (after.startsWith('(') || PROMQL_WORDS.has(word) || /^\d/.test(word)) continue;
    // Numbers such as 1e-9 leave an `e` behind: skip words glued to a digit.
    if (m.index !== undefined && m.index > 0 && /[0-9.]/.test(bare[m.index - 1])) continue;
    out.push(word);
  }
  return out;
}

describe('serve --log-file', () => {
  it('writes the process log to the file and opens it again on SIGUSR1 after it was moved', async () => {
    expect((await adm(served, 'ping')).code).toBe(0);
    const deadline = Date.now() + 5000;
    while (!(existsSync(logFile) && readFileSync(logFile, 'utf8').includes('"command":"ping"')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(readFileSync(logFile, 'utf8')).toContain('"command":"ping"');
    // logrotate: move the file away, then SIGUSR1.
    renameSync(logFile, `${logFile}.1`);
    served.proc.kill('SIGUSR1');
    const until = Date.now() + 5000;
    while (!existsSync(logFile) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    expect((await adm(served, 'status')).code).toBe(0);
    const fresh = Date.now() + 5000;
    while (!readFileSync(logFile, 'utf8').includes('"command":"status"') && Date.now() < fresh) await new Promise((r) => setTimeout(r, 100));
    expect(readFileSync(logFile, 'utf8')).toContain('"command":"status"');
    expect(readFileSync(`${logFile}.1`, 'utf8')).not.toContain('"command":"status"');
    expect(served.proc.exitCode).toBe(null);
  });

  it('refuses an unknown --log-level with a usage error', async () => {
    const r = await shellac(['serve', '-b', '127.0.0.1:9', '--log-level', 'chatty']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--log-level chatty: one of fatal, error, warn, info, debug, trace, silent');
  });
});
