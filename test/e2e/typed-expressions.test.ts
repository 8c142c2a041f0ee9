// REGEX- and ACL-typed expressions (issue 11; Varnish's c00103 and m00023): the right side of
// `~`, and regsub's pattern, may be a VMOD call returning a REGEX or an ACL; a regex literal may be
// constant strings joined with `+`; an ACL's short network notation ("10"/8) names a network.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errors } from '../vcl/check-util.ts';
import { get, type ProxyHandle, startProxy } from '../helpers/proxy.ts';

const VCL = `vcl 4.1;
import debug;
backend be none;
acl loopback { "127"/8; }
acl elsewhere { "10"/8; }
sub vcl_recv {
  if (req.url == "/acl") {
    if (client.ip ~ debug.acl(loopback) && client.ip !~ debug.acl(elsewhere)) { return (synth(200, "in")); }
    return (synth(403));
  }
  if (req.url == "/null-acl") {
    if (client.ip ~ debug.null_acl()) { return (synth(200)); }
    return (synth(404));
  }
  if (req.url ~ debug.just_return_regex(debug.just_return_regex("^/he" + "l" + "lo"))) {
    return (synth(200, regsub(req.url, debug.just_return_regex("^/(h)"), "\\1-")));
  }
  return (synth(404));
}
`;

let proxy: ProxyHandle;
beforeAll(async () => {
  proxy = await startProxy(VCL);
});
afterAll(async () => {
  await proxy?.close();
});

describe('typed expressions from VMODs', () => {
  it('matches against a REGEX a VMOD returned, in ~ and in regsub', async () => {
    const r = await get(proxy.port, '/hello');
    expect(r.status).toBe(200);
    expect(r.reason).toBe('h-ello');
    expect((await get(proxy.port, '/goodbye')).status).toBe(404);
  });

  it('matches client.ip against ACLs a VMOD returned; an unset one fails the task', async () => {
    const r = await get(proxy.port, '/acl');
    expect(r.status).toBe(200);
    expect(r.reason).toBe('in');
    expect((await get(proxy.port, '/null-acl')).status).toBe(503);
  });

  it('refuses a STRING where a REGEX or an ACL is wanted', () => {
    expect(errors('vcl 4.1;\nbackend be none;\nsub vcl_recv { if (req.url ~ req.http.x) { return (pass); } }\n')).toEqual(['3:30 Expression has type STRING, expected REGEX']);
    expect(errors('vcl 4.1;\nbackend be none;\nsub vcl_recv { if (client.ip ~ req.http.x) { return (pass); } }\n')).toEqual(["3:32 Expected an ACL name after ~, got 'req.http.x'"]);
  });
});
