// The debug VMOD: the implementation of vmod.vcc, the module Varnish's own test cases import to
// exercise the VMOD interface. Each file holds one family of entries; this one gathers them and
// checks the whole against the interface generated from the manifest.

import * as self from './index.ts';
import type { VmodDebug } from './interface.ts';
import type { VclState } from './privs.ts';

export { acl, match_acl, null_acl } from './acl.ts';
export { dyn, dyn_uds } from './dyn.ts';
export {
  argtest,
  author,
  client_ip,
  client_port,
  collect,
  concatenate,
  fail,
  fail2,
  just_return_regex,
  re_quote,
  rot52,
  sethdr,
  test_probe,
  vre_limit,
} from './functions.ts';
export { aclobj, concat, obj, obj_opt } from './objects.ts';
export {
  event_function,
  priv_task_with_option,
  test_priv_call,
  test_priv_task,
  test_priv_top,
  vcl_allow_cold,
  vcl_prevent_cold,
  test_priv_vcl,
} from './privs.ts';

// tsc fails here when an export is missing or its types differ from the manifest's.
self satisfies VmodDebug<{ call: string; task: string; top: string; objectTask: string; objectTop: string; vcl: VclState }>;
