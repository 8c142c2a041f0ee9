// The JavaScript side of Shellac's compute program interface (docs/compute.md). The build puts
// this file in front of each JS program. A program defines:
//
//   function handle(req) { return respond(200, 'text/html', '<p>hi</p>'); }   // required
//   function init(args, env) { ... }            // optional: runs once, before the snapshot
//   function saveState() { return 'text'; }     // optional: live update, old version
//   function restoreState(text) { ... }         // optional: live update, new version
//
// req: { method, url, argument, config, headers (lower-case names), body (Uint8Array) }.
// The host gives `shellac.log(text)`, `shellac.selfRequest(url)` -> { status, body, text() },
// `shellac.env` (the environment as an object), and `shellac.beginResponse(status,
// contentType, headers)` with `shellac.sendChunk(text or bytes)` for a response sent in pieces
// (streamed to the client when the program is the last of program()'s chain; handle() then
// returns nothing).

/** A response object as handle() returns it. */
function respond(status, contentType, body, headers) {
  return { status: status, contentType: contentType, body: body, headers: headers || {} };
}

/** The request body as text. */
function bodyText(req) {
  return new TextDecoder().decode(req.body);
}

/** Escapes text for HTML element content and attribute values. */
function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, function (c) {
    return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
  });
}

/** The query parameters of a URL, as an object (the first value of each). */
function queryOf(url) {
  var out = {};
  var q = url.indexOf('?');
  if (q < 0) return out;
  url
    .slice(q + 1)
    .split('&')
    .forEach(function (pair) {
      if (pair === '') return;
      var eq = pair.indexOf('=');
      var k = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      if (!(k in out)) out[k] = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    });
  return out;
}
