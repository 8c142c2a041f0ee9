// A process for no-abort.test.ts: a Shellac in this process whose JS programs have sandbox
// threads holding isolates, ended the way a process ends (argv[2]): `close-exit` discards the
// VCL and calls process.exit() at once, while the threads are still ending; `exit` calls
// process.exit() with the VCL loaded and the threads idle; `drain` discards the VCL and lets the
// event loop run out. Prints how many requests were answered 200.

import { join } from 'node:path';
import { BUILD_DIR, buildPrograms } from '../../programs/build.ts';
import { get, startProxy } from '../../test/helpers/proxy.ts';

const how = process.argv[2] ?? 'close-exit';
await buildPrograms();
const p = await startProxy(`vcl 4.1;
import compute;
backend default none;
sub vcl_init {
  compute.configure("limits", {"{"filename": "${join(BUILD_DIR, 'test-limits.js')}", "concurrency": 4}"});
  compute.configure("template", {"{"filename": "${join(BUILD_DIR, 'template.js')}", "concurrency": 2}"});
}
sub vcl_recv { return (pass); }
sub vcl_backend_fetch { set bereq.backend = compute.program(bereq.http.x-program, bereq.http.x-arg); }`);
const replies = await Promise.all(
  Array.from({ length: 16 }, (_, i) => get(p.port, '/', { headers: { 'x-program': i % 2 ? 'limits' : 'template', 'x-arg': 'hi' } })),
);
process.stdout.write(`answered ${replies.filter((r) => r.status === 200).length}\n`);
if (how !== 'exit') await p.close();
if (how !== 'drain') process.exit(0);
