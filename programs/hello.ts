// hello: the smallest program. Answers every request with a greeting naming its URL and
// argument, and counts the requests its sandbox has seen: with `ephemeral` (the default) the
// count is always 1, because every request starts from the state initialisation left.
import { Request, onRequest, respond, setHeader, getArguments } from './sdk/shellac';
export { alloc, handle_request, state_save, state_restore } from './sdk/shellac';

let greeting = 'Hello';
let seen = 0;

const args = getArguments();
if (args.length > 0 && args[0].length > 0) greeting = args[0];

onRequest((req: Request): void => {
  seen++;
  setHeader('X-Seen', seen.toString());
  respond(200, 'text/plain', greeting + ' from ' + req.url + (req.argument.length > 0 ? ' (' + req.argument + ')' : '') + '\n');
});
