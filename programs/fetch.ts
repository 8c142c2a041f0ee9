// fetch: the first link of a chain. Requests its argument from this server (a self-request, so
// the origin's response goes through VCL and the cache) and passes the body on to the next
// program of the chain. A failed self-request is a 502.
import { Request, onRequest, respondBytes, respond, selfRequest } from './sdk/shellac';
export { alloc, handle_request, state_save, state_restore } from './sdk/shellac';

onRequest((req: Request): void => {
  const r = selfRequest(req.argument.length > 0 ? req.argument : req.url);
  if (r.status < 200 || r.status >= 300) {
    respond(502, 'text/plain', 'fetch: self-request answered ' + r.status.toString() + '\n');
    return;
  }
  respondBytes(200, 'application/octet-stream', r.body);
});


