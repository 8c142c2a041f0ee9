// The std VMOD (vmods/std/vmod.vcc): Varnish 7.1's standard functions. This file only gathers
// them; each group lives in its own file. The last lines check the exports against the
// interface vmodtool generates from the manifest.

import type { CachedFile } from './files.ts';
import * as self from './index.ts';
import type { VmodStd } from './interface.ts';

export { bytes, duration, integer, ip, real, time } from './conversions.ts';
export { blobread, file_exists, fileread, getenv } from './files.ts';
export { random, real2integer, real2time, round, time2integer, time2real } from './numbers.ts';
export { collect, fnmatch, querysort, strftime, strstr, tolower, toupper } from './strings.ts';
export {
  ban,
  ban_error,
  cache_req_body,
  healthy,
  late_100_continue,
  log,
  port,
  rollback,
  set_ip_tos,
  syntax,
  syslog,
  timestamp,
} from './task.ts';

self satisfies VmodStd<{ call: CachedFile }>;
