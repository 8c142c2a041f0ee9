// Would a writer thread lift the one event loop's limit? An experiment, not Shellac's code: a
// bare node:net server answers every request with the same 1.3 KB response (the soak's size),
// either writing it itself (`main`) or handing the bytes and the socket's descriptor through a
// SharedArrayBuffer ring to a worker thread that calls write(2) on it (`worker`, one
// Atomics.notify per turn). `--work US` spins that long per request on the main thread, to
// stand in for Shellac's own JavaScript (the soak's main thread spends about 20 µs of its 32 per
// request outside the kernel). wrk -t2 -c20 loads it; the bench prints req/s and the server's
// CPU per request, its main thread's and all its threads', taking turns between the modes.
// The worker mode ignores a full socket (EAGAIN) and the race between a close and a queued
// write to the same descriptor: it measures the best case, it is not safe to ship (see
// docs/storage.md, "Throughput").
// Run: `node bench/write-offload.ts [--work 0,18] [--seconds 5] [--rounds 2]`.

import { execFile, spawn } from 'node:child_process';
import { readFileSync, writeSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import { isMainThread, Worker, workerData } from 'node:worker_threads';

const RING_BYTES = 4 << 20;
const HEADER = 64;

const RESPONSE = Buffer.concat([
  Buffer.from(
    'HTTP/1.1 200 OK\r\nDate: Tue, 08 Dec 2026 00:00:00 GMT\r\nContent-Type: text/plain\r\nCache-Control: max-age=3600\r\n' +
      'X-Varnish: 1234 5678\r\nAge: 3\r\nVia: 1.1 shellac\r\nAccept-Ranges: bytes\r\nContent-Length: 1024\r\n\r\n',
  ),
  Buffer.alloc(1024, 'x'),
]);

/** The writer thread: takes records (descriptor, length, bytes) off the ring and writes them. */
function writer(sab: SharedArrayBuffer): void {
  const ctl = new Int32Array(sab, 0, 4);
  const ring = Buffer.from(sab, HEADER, RING_BYTES);
  let at = 0;
  let seen = 0;
  for (;;) {
    Atomics.wait(ctl, 2, seen);
    seen = Atomics.load(ctl, 2);
    if (Atomics.load(ctl, 3) === 1) return;
    for (let end = Atomics.load(ctl, 0); at !== end; end = Atomics.load(ctl, 0)) {
      const fd = ring.readInt32LE(at);
      if (fd === -1) {
        at = 0;
        continue;
      }
      const length = ring.readInt32LE(at + 4);
      try {
        writeSync(fd, ring, at + 8, length);
      } catch {
        // A full or closed socket: the experiment drops it.
      }
      at += 8 + ((length + 3) & ~3);
      Atomics.store(ctl, 1, at);
    }
  }
}

/** The server process: answers each request on `port`, writing in `mode`. */
function serve(port: number, mode: string, workNs: bigint): void {
  const sab = new SharedArrayBuffer(HEADER + RING_BYTES);
  const ctl = new Int32Array(sab, 0, 4);
  const ring = Buffer.from(sab, HEADER, RING_BYTES);
  const thread = mode === 'worker' ? new Worker(new URL(import.meta.url), { workerData: { sab } }) : null;
  let at = 0;
  let notifying = false;
  const notify = (): void => {
    notifying = false;
    Atomics.add(ctl, 2, 1);
    Atomics.notify(ctl, 2);
  };
  const handOff = (fd: number, bytes: Buffer): void => {
    const need = 8 + ((bytes.length + 3) & ~3);
    if (at + need > RING_BYTES) {
      ring.writeInt32LE(-1, at);
      at = 0;
    }
    // The writer is a whole ring behind: drop it (it never is at this load).
    const read = Atomics.load(ctl, 1);
    if (read > at && read <= at + need) return;
    ring.writeInt32LE(fd, at);
    ring.writeInt32LE(bytes.length, at + 4);
    bytes.copy(ring, at + 8);
    at += need;
    Atomics.store(ctl, 0, at);
    if (!notifying) {
      notifying = true;
      setImmediate(notify);
    }
  };
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    let pending = '';
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
        pending = pending.slice(end + 4);
        const until = process.hrtime.bigint() + workNs;
        while (process.hrtime.bigint() < until) {
          // Stands in for the proxy's own work.
        }
        // biome-ignore lint/suspicious/noExplicitAny: the handle's descriptor is not in net's types
        if (thread !== null) handOff((socket as any)._handle.fd, RESPONSE);
        else socket.write(RESPONSE);
      }
    });
  });
  server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => {
    Atomics.store(ctl, 3, 1);
    notify();
    process.exit(0);
  });
}

/** User + system ticks (10 ms) of a thread or of the whole process. */
function ticks(path: string): number {
  const fields = readFileSync(path, 'utf8').split(') ')[1].split(' ');
  return Number(fields[11]) + Number(fields[12]);
}

async function measure(mode: string, workUs: number, seconds: number, port: number): Promise<string> {
  const child = spawn(process.execPath, [new URL(import.meta.url).pathname, '--serve', mode, '--port', String(port), '--work', String(workUs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (code) => reject(new Error(`server exited ${code}`)));
    });
    const pid = child.pid!;
    const main0 = ticks(`/proc/${pid}/task/${pid}/stat`);
    const all0 = ticks(`/proc/${pid}/stat`);
    const out = await new Promise<string>((resolve, reject) =>
      execFile('wrk', ['-t2', '-c20', `-d${seconds}s`, `http://127.0.0.1:${port}/`], { timeout: (seconds + 30) * 1000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const main = ticks(`/proc/${pid}/task/${pid}/stat`) - main0;
    const all = ticks(`/proc/${pid}/stat`) - all0;
    const requests = Number(/(\d+) requests in/.exec(out)?.[1] ?? 0);
    const rate = requests / seconds;
    const perRequest = (t: number): string => ((t * 10_000) / requests).toFixed(1);
    return `${mode.padEnd(6)} work ${String(workUs).padStart(2)} µs: ${Math.round(rate).toLocaleString('en').padStart(7)} req/s, CPU per request ${perRequest(main)} µs main thread, ${perRequest(all)} µs all threads`;
  } finally {
    child.kill('SIGTERM');
  }
}

if (!isMainThread) writer((workerData as { sab: SharedArrayBuffer }).sab);
else {
  const { values } = parseArgs({
    options: {
      serve: { type: 'string' },
      port: { type: 'string', default: '9080' },
      work: { type: 'string', default: '0,18' },
      seconds: { type: 'string', default: '5' },
      rounds: { type: 'string', default: '2' },
    },
  });
  if (values.serve !== undefined) serve(Number(values.port), values.serve, BigInt(Math.round(Number(values.work) * 1000)));
  else {
    console.log(`write offload: wrk -t2 -c20, ${values.seconds} s a turn; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const work of values.work.split(',').map(Number)) {
        for (const mode of ['main', 'worker']) console.log(await measure(mode, work, Number(values.seconds), Number(values.port)));
      }
    }
  }
}
