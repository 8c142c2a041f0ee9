// json-transform: rewrites the JSON of its request body (in a chain, the response of the
// program before it): removes insignificant whitespace and adds a "via" member naming the
// program's argument to the top object. A body that is not a JSON object is a 422.
import { Request, onRequest, respond } from './sdk/shellac';
export { alloc, handle_request, state_save, state_restore } from './sdk/shellac';

function minify(src: string): string {
  const out = new Array<string>();
  let inString = false;
  let escaped = false;
  for (let i = 0; i < src.length; i++) {
    const c = src.charAt(i);
    if (inString) {
      out.push(c);
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') inString = false;
    } else if (c == '"') {
      inString = true;
      out.push(c);
    } else if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
      out.push(c);
    }
  }
  return out.join('');
}

function quote(s: string): string {
  return '"' + s.replaceAll('\\', '\\\\').replaceAll('"', '\\"') + '"';
}

onRequest((req: Request): void => {
  const json = minify(req.bodyText());
  if (!json.startsWith('{') || !json.endsWith('}')) {
    respond(422, 'text/plain', 'json-transform: the body is not a JSON object\n');
    return;
  }
  const via = quote(req.argument.length > 0 ? req.argument : 'shellac-compute');
  const rest = json.substring(1);
  respond(200, 'application/json', '{"via":' + via + (rest == '}' ? '' : ',') + rest);
});
