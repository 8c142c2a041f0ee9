// A program that misbehaves on request, for compute's tests: the `arg` of program() picks what
// it does. Not an example to follow.
import { Request, onRequest, respond, selfRequest, onStateSave, onStateRestore, log, setHeader, beginResponse, sendChunk } from '../sdk/shellac';
export { alloc, handle_request, state_save, state_restore } from '../sdk/shellac';

/** What the previous request left behind, if the sandbox was not reset. */
let left = '';
/** Carried over by live update. */
let counter = 0;
let hold: Uint8Array[] = [];

onStateSave((): string => counter.toString());
onStateRestore((s: string): void => {
  counter = I32.parseInt(s);
});

/** Counts until an i64 overflows: longer than any max_request_time. */
let spins: i64 = 0;
function spin(): i64 {
  while (true) {
    spins++;
    if (spins < 0) break;
  }
  return spins;
}

onRequest((req: Request): void => {
  const arg = req.argument;
  if (arg == 'loop') {
    respond(200, 'text/plain', spin().toString());
  } else if (arg.startsWith('alloc:')) {
    const mb = I32.parseInt(arg.substring(6));
    for (let i = 0; i < mb; i++) {
      const block = new Uint8Array(1024 * 1024);
      for (let j = 0; j < block.length; j += 4096) block[j] = 1;
      hold.push(block);
    }
    respond(200, 'text/plain', 'allocated ' + mb.toString() + ' MB');
  } else if (arg == 'trap') {
    unreachable();
  } else if (arg == 'leak') {
    const before = left;
    left = req.url;
    respond(200, 'text/plain', 'left: ' + before);
  } else if (arg.startsWith('self:')) {
    const r = selfRequest(arg.substring(5));
    respond(200, 'text/plain', r.status.toString() + ' ' + r.text());
  } else if (arg == 'count') {
    counter++;
    log('counter is ' + counter.toString());
    respond(200, 'text/plain', 'count ' + counter.toString());
  } else if (arg == 'echo') {
    setHeader('X-Method', req.method);
    respond(200, 'application/octet-stream', req.bodyText());
  } else if (arg.startsWith('stream:')) {
    // A first piece, then a slow self-request, then the rest: streamed, the client has the
    // first piece long before the end.
    setHeader('X-Streamed', 'yes');
    beginResponse(200, 'text/plain');
    sendChunk('first\n');
    const r = selfRequest(arg.substring(7));
    sendChunk('then ' + r.status.toString() + '\n');
  } else if (arg == 'headers') {
    setHeader('X-Ok', 'yes');
    setHeader('X-Bad', 'a\r\nInjected: 1');
    setHeader('Bad Name', 'x');
    respond(200, 'text/plain', 'headers');
  } else if (arg == 'status') {
    respond(418, 'text/plain', 'teapot');
  } else {
    respond(200, 'text/plain', 'limits v1 ' + arg);
  }
});
