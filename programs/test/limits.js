// The JS twin of test/limits.ts, for compute's tests: the argument picks the misbehaviour.
let left = '';
let counter = 0;
const hold = [];

function saveState() {
  return String(counter);
}

function restoreState(s) {
  counter = Number(s);
}

function handle(req) {
  const arg = req.argument;
  if (arg === 'loop') for (;;) {}
  if (arg.startsWith('alloc:')) {
    const mb = Number(arg.slice(6));
    for (let i = 0; i < mb * 16; i++) hold.push(new Array(8192).fill(i));
    return respond(200, 'text/plain', 'allocated');
  }
  if (arg === 'throw') throw new Error('thrown on purpose');
  if (arg === 'leak') {
    const before = left;
    left = req.url;
    return respond(200, 'text/plain', 'left: ' + before);
  }
  if (arg.startsWith('self:')) {
    const r = shellac.selfRequest(arg.slice(5));
    return respond(200, 'text/plain', r.status + ' ' + r.text());
  }
  if (arg === 'badchunk') {
    shellac.beginResponse(200, 'text/plain');
    shellac.sendChunk(1e9);
    return;
  }
  if (arg.startsWith('stream:')) {
    shellac.beginResponse(200, 'text/plain', { 'X-Streamed': 'yes' });
    shellac.sendChunk('first\n');
    const r = shellac.selfRequest(arg.slice(7));
    shellac.sendChunk('then ' + r.status + '\n');
    return;
  }
  if (arg === 'headers') return respond(200, 'text/plain', 'headers', { 'X-Ok': 'yes', 'X-Bad': 'a\r\nInjected: 1', 'Bad Name': 'x' });
  if (arg === 'count') {
    counter++;
    shellac.log('counter is ' + counter);
    return respond(200, 'text/plain', 'count ' + counter);
  }
  if (arg === 'echo') return respond(200, 'application/octet-stream', req.body, { 'X-Method': req.method });
  return respond(200, 'text/plain', 'limits-js v1 ' + arg);
}
