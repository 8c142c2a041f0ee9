// template: an HTML template renderer. The template is the request body (in a chain, what the
// program before produced) or, without one, the page template given to init as its first
// argument. {{name}} is replaced by the escaped value of `name` from the query string, the
// config (a JSON object) or the argument; {{{name}}} inserts it unescaped; {{#each name}} ...
// {{/each}} repeats a block for each element of a JSON array value, with {{.}} the element.

let defaultTemplate = '<!doctype html><title>{{title}}</title><h1>{{title}}</h1><p>{{message}}</p>';
let rendered = 0;

function init(args) {
  if (args.length > 0 && args[0] !== '') defaultTemplate = args[0];
}

function lookup(scope, name) {
  if (name === '.') return scope['.'];
  return Object.prototype.hasOwnProperty.call(scope, name) ? scope[name] : '';
}

function render(template, scope) {
  const blocks = template.replace(/\{\{#each (\w+)\}\}([\s\S]*?)\{\{\/each\}\}/g, function (_, name, inner) {
    const list = lookup(scope, name);
    if (!Array.isArray(list)) return '';
    return list.map((item) => render(inner, Object.assign({}, scope, { '.': item }))).join('');
  });
  return blocks
    .replace(/\{\{\{([\w.]+)\}\}\}/g, (_, name) => String(lookup(scope, name)))
    .replace(/\{\{([\w.]+)\}\}/g, (_, name) => escapeHtml(lookup(scope, name)));
}

function handle(req) {
  let config = {};
  if (req.config !== '') {
    try {
      config = JSON.parse(req.config);
    } catch (e) {
      return respond(500, 'text/plain', 'template: config is not JSON: ' + e.message + '\n');
    }
  }
  const scope = Object.assign({ argument: req.argument, title: 'Shellac', message: '' }, config, queryOf(req.url));
  const template = req.body.length > 0 ? bodyText(req) : defaultTemplate;
  rendered++;
  return respond(200, 'text/html; charset=utf-8', render(template, scope), { 'X-Rendered': String(rendered) });
}
