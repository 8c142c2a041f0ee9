// cookie through compiled VCL: the jar lives in PRIV_TASK, so it is shared by every call of
// one task (across subs) and starts empty in the next; REGEX arguments arrive compiled.

import { describe, expect, it } from 'vitest';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { clientTask, load, run } from '../../test/runtime/vcl-harness.ts';

const VCL = `
import cookie;

sub vcl_recv {
  if (req.http.cookie) {
    cookie.parse(req.http.cookie);
    cookie.filter_re("^_ga");
    cookie.delete("tracking");
    set req.http.has-session = cookie.isset("session");
    set req.http.session = cookie.get("session");
    set req.http.first-pref = cookie.get_re("^pref");
    call keep_few;
    set req.http.cookie = cookie.get_string();
    if (req.http.cookie == "") {
      unset req.http.cookie;
    }
  }
  cookie.set("seen", "1");
  return (hash);
}

sub keep_few {
  cookie.keep("session,pref-lang,seen");
}

sub vcl_hash {
  set req.http.later = cookie.get_string();
  set req.http.expires = cookie.format_date(std.time(integer = 1234567890), 1d);
  set req.http.old-name = cookie.format_rfc1123(std.time(integer = 1234567890), 5m);
}
`;

describe('cookie in VCL', () => {
  it('parses, filters and rewrites the Cookie header, keeping the jar for the task', async () => {
    const vcl = await load(`import std;\n${VCL}`, { vmodPath: DEFAULT_VMOD_PATH });
    const t = clientTask({
      headers: [
        ['Host', 'example.com'],
        ['Cookie', '_ga=GA1; session=abc; tracking=x; pref-lang=en; pref-tz=utc; _gat=1'],
      ],
    });
    expect(run(vcl, 'vcl_recv', t)).toEqual({ action: 'hash' });
    const req = t.req!;
    expect(req.get('has-session')).toBe('true');
    expect(req.get('session')).toBe('abc');
    expect(req.get('first-pref')).toBe('en');
    expect(req.get('cookie')).toBe('session=abc; pref-lang=en;');
    run(vcl, 'vcl_hash', t);
    expect(req.get('later')).toBe('session=abc; pref-lang=en; seen=1;');
    expect(req.get('expires')).toBe('Sat, 14 Feb 2009 23:31:30 GMT');
    expect(req.get('old-name')).toBe('Fri, 13 Feb 2009 23:36:30 GMT');
  });

  it('starts each task with an empty jar', async () => {
    const vcl = await load(`import std;\n${VCL}`, { vmodPath: DEFAULT_VMOD_PATH });
    const first = clientTask({ headers: [['Cookie', 'tracking=1']] });
    run(vcl, 'vcl_recv', first);
    expect(first.req!.get('cookie')).toBeNull();
    expect(first.req!.get('has-session')).toBe('false');
    first.end();
    const second = clientTask();
    run(vcl, 'vcl_recv', second);
    run(vcl, 'vcl_hash', second);
    expect(second.req!.get('later')).toBe('seen=1;');
  });
});
