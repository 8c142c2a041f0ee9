// The one table of counters: every name as Varnish 7.1 spells it, whether it counts events
// (counter), tells a current amount (gauge) or holds bits (bitmap), and a one-line description
// (varnishstat's last column). The counter registry refuses a source with a field not declared
// here, and `shellac stat`, `GET /metrics` and the admin CLI all read names and docs from here.
//
// Groups: MGT (the process), MAIN (everything summed over the parts), SMA.<storage> (one per
// storage) and VBE.<vcl>.<backend> (one per backend of each loaded VCL).

export type CounterType = 'counter' | 'gauge' | 'bitmap';
/** How a value reads: a count, bytes, or seconds. */
export type CounterFormat = 'count' | 'bytes' | 'duration';

export interface CounterDecl {
  readonly name: string;
  readonly type: CounterType;
  readonly format?: CounterFormat;
  readonly docs: string;
}

export type CounterGroup = 'MGT' | 'MAIN' | 'SMA' | 'SMF' | 'VBE';

const MGT = [
  { name: 'uptime', type: 'counter', format: 'duration', docs: 'Seconds since the process started' },
  { name: 'child_start', type: 'counter', docs: 'Child processes started by the manager' },
  { name: 'child_exit', type: 'counter', docs: 'Child processes that exited with status 0 while they should have served' },
  { name: 'child_stop', type: 'counter', docs: 'Child processes that exited with an error status (a crash, out of memory)' },
  { name: 'child_died', type: 'counter', docs: 'Child processes killed by a signal' },
] as const satisfies readonly CounterDecl[];

const MAIN = [
  { name: 'uptime', type: 'counter', format: 'duration', docs: 'Seconds since the server started serving' },
  { name: 'sess_conn', type: 'counter', docs: 'Client connections accepted' },
  { name: 'sess_fail', type: 'counter', docs: 'Client connections that failed while being accepted' },
  { name: 'sess_fail_other', type: 'counter', docs: 'Client connections that failed while being accepted, for any reason' },
  { name: 'sess_readahead', type: 'counter', docs: 'Requests read while an earlier one on their connection was still served (pipelining)' },
  { name: 'sess_herd', type: 'counter', docs: 'Times a keep-alive connection waited timeout_linger without a byte and went on waiting as idle' },
  { name: 'client_req_400', type: 'counter', docs: 'Client requests refused as malformed (400)' },
  { name: 'client_req_417', type: 'counter', docs: 'Client requests refused for their Expect header (417)' },
  { name: 'client_req', type: 'counter', docs: 'Well-formed client requests received' },
  // Not a Varnish 7.1 counter (Varnish 3 had it); the proxy counts it.
  { name: 's_req', type: 'counter', docs: 'Client requests handled, restarts counted once' },
  { name: 'esi_req', type: 'counter', docs: 'ESI subrequests' },
  { name: 'cache_hit', type: 'counter', docs: 'Lookups delivered from the cache' },
  { name: 'cache_hit_grace', type: 'counter', docs: 'Hits on objects past their ttl, inside grace' },
  { name: 'cache_hitpass', type: 'counter', docs: 'Lookups that found a hit-for-pass object' },
  { name: 'cache_hitmiss', type: 'counter', docs: 'Lookups that found a hit-for-miss object' },
  { name: 'cache_miss', type: 'counter', docs: 'Lookups that found nothing usable' },
  { name: 'beresp_uncacheable', type: 'counter', docs: 'Backend responses made uncacheable' },
  { name: 'beresp_shortlived', type: 'counter', docs: 'Objects stored in transient storage for their short life' },
  { name: 'backend_conn', type: 'counter', docs: 'Backend connections opened' },
  { name: 'backend_unhealthy', type: 'counter', docs: 'Fetches not attempted: the backend was sick' },
  { name: 'backend_busy', type: 'counter', docs: 'Fetches not attempted: the backend had max_connections in use' },
  { name: 'backend_fail', type: 'counter', docs: 'Backend connections that could not be opened' },
  { name: 'backend_reuse', type: 'counter', docs: 'Backend requests sent on a connection used before' },
  { name: 'backend_recycle', type: 'counter', docs: 'Backend connections kept open for reuse after a response' },
  { name: 'backend_retry', type: 'counter', docs: 'Backend requests retried on a new connection after a reused one failed' },
  { name: 'fetch_head', type: 'counter', docs: 'Fetches without a body: HEAD requests' },
  { name: 'fetch_length', type: 'counter', docs: 'Fetches with a Content-Length body' },
  { name: 'fetch_chunked', type: 'counter', docs: 'Fetches with a chunked body' },
  { name: 'fetch_eof', type: 'counter', docs: 'Fetches with a body ending at connection close' },
  { name: 'fetch_bad', type: 'counter', docs: 'Fetches with a body length that could not be told' },
  { name: 'fetch_none', type: 'counter', docs: 'Fetches without a body' },
  { name: 'fetch_1xx', type: 'counter', docs: 'Fetches without a body: 1xx responses' },
  { name: 'fetch_204', type: 'counter', docs: 'Fetches without a body: 204 responses' },
  { name: 'fetch_304', type: 'counter', docs: 'Fetches without a body: 304 responses' },
  { name: 'fetch_failed', type: 'counter', docs: 'Fetches that failed, for any reason' },
  { name: 'fetch_no_thread', type: 'counter', docs: 'Background fetches that could not be started' },
  { name: 'busy_sleep', type: 'counter', docs: 'Requests put on a waiting list behind a fetch of the same object' },
  { name: 'busy_wakeup', type: 'counter', docs: 'Requests woken from a waiting list' },
  { name: 'busy_killed', type: 'counter', docs: 'Requests dropped from a waiting list' },
  { name: 'req_dropped', type: 'counter', docs: 'Requests dropped unserved (at shutdown)' },
  { name: 'n_object', type: 'gauge', docs: 'Objects in the cache' },
  { name: 'n_objectcore', type: 'gauge', docs: 'Object cores: objects and fetches in progress' },
  { name: 'n_objecthead', type: 'gauge', docs: 'Object heads: distinct hash keys' },
  { name: 'n_backend', type: 'gauge', docs: 'Backends, over all loaded VCLs' },
  { name: 'n_expired', type: 'counter', docs: 'Objects removed because their ttl + grace + keep ran out' },
  { name: 'n_lru_nuked', type: 'counter', docs: 'Objects evicted, least recently used first, to make room' },
  { name: 'n_lru_moved', type: 'counter', docs: 'Objects moved to the front of the LRU list' },
  { name: 'n_lru_limited', type: 'counter', docs: 'Fetches that failed after evicting nuke_limit objects' },
  { name: 'losthdr', type: 'counter', docs: 'Headers dropped: too many (http_max_hdr) or too long' },
  { name: 's_sess', type: 'counter', docs: 'Client connections handled' },
  { name: 'n_pipe', type: 'gauge', docs: 'Piped connections open now' },
  { name: 'pipe_limited', type: 'counter', docs: 'Pipes refused by pipe_sess_max' },
  { name: 's_pipe', type: 'counter', docs: 'Requests piped' },
  { name: 's_pass', type: 'counter', docs: 'Requests passed' },
  { name: 's_fetch', type: 'counter', docs: 'Backend fetches started' },
  { name: 's_bgfetch', type: 'counter', docs: 'Backend fetches started in the background (grace refreshes)' },
  { name: 's_synth', type: 'counter', docs: 'Synthetic responses made' },
  { name: 's_req_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of client request heads' },
  { name: 's_req_bodybytes', type: 'counter', format: 'bytes', docs: 'Bytes of client request bodies' },
  { name: 's_resp_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of response heads sent to clients' },
  { name: 's_resp_bodybytes', type: 'counter', format: 'bytes', docs: 'Bytes of response bodies sent to clients' },
  { name: 's_pipe_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of request heads sent on pipes' },
  { name: 's_pipe_in', type: 'counter', format: 'bytes', docs: 'Bytes piped from clients' },
  { name: 's_pipe_out', type: 'counter', format: 'bytes', docs: 'Bytes piped to clients' },
  { name: 'sess_closed', type: 'counter', docs: 'Client connections closed' },
  { name: 'sess_closed_err', type: 'counter', docs: 'Client connections closed because of an error' },
  { name: 'sc_rem_close', type: 'counter', docs: 'Connections closed by the client' },
  { name: 'sc_req_close', type: 'counter', docs: 'Connections closed as the request asked (Connection: close)' },
  { name: 'sc_req_http10', type: 'counter', docs: 'Connections closed after an HTTP/1.0 request without keep-alive' },
  { name: 'sc_rx_bad', type: 'counter', docs: 'Connections closed after a malformed request' },
  { name: 'sc_rx_body', type: 'counter', docs: 'Connections closed while reading a request body failed' },
  { name: 'sc_rx_junk', type: 'counter', docs: 'Connections closed after bytes that were no request' },
  { name: 'sc_rx_overflow', type: 'counter', docs: 'Connections closed after a request head too large' },
  { name: 'sc_rx_timeout', type: 'counter', docs: 'Connections closed while a request head was incomplete (timeout_idle)' },
  { name: 'sc_rx_close_idle', type: 'counter', docs: 'Idle connections closed by timeout_idle' },
  { name: 'sc_tx_pipe', type: 'counter', docs: 'Connections closed after a pipe' },
  { name: 'sc_tx_error', type: 'counter', docs: 'Connections closed while sending a response failed' },
  { name: 'sc_tx_eof', type: 'counter', docs: 'Connections closed to end a response without a length' },
  { name: 'sc_resp_close', type: 'counter', docs: 'Connections closed as the response asked (Connection: close)' },
  { name: 'sc_overload', type: 'counter', docs: 'Connections closed for lack of resources' },
  { name: 'sc_pipe_overflow', type: 'counter', docs: 'Connections closed because pipe_sess_max was reached' },
  { name: 'sc_range_short', type: 'counter', docs: 'Connections closed because a range response ended early' },
  { name: 'sc_req_http20', type: 'counter', docs: 'Connections closed after an HTTP/2 preface (not spoken)' },
  { name: 'sc_vcl_failure', type: 'counter', docs: 'Connections closed after a VCL failure' },
  { name: 'backend_req', type: 'counter', docs: 'Backend requests sent' },
  { name: 'n_vcl', type: 'gauge', docs: 'VCLs loaded' },
  { name: 'n_vcl_avail', type: 'gauge', docs: 'VCLs loaded and warm' },
  { name: 'n_vcl_discard', type: 'gauge', docs: 'VCLs discarded and not yet freed' },
  { name: 'vcl_fail', type: 'counter', docs: 'Tasks failed by a VCL error' },
  { name: 'uncaught_error', type: 'counter', docs: 'Errors that escaped all code (a VMOD timer, a stray promise): logged, their request ended' },
  { name: 'bans', type: 'gauge', docs: 'Bans in the ban list, completed ones included' },
  { name: 'bans_completed', type: 'gauge', docs: 'Bans in the list that need no more testing' },
  { name: 'bans_obj', type: 'gauge', docs: 'Bans in the list that use only obj.* fields' },
  { name: 'bans_req', type: 'gauge', docs: 'Bans in the list that use req.* fields' },
  { name: 'bans_added', type: 'counter', docs: 'Bans added' },
  { name: 'bans_deleted', type: 'counter', docs: 'Bans removed from the tail of the list' },
  { name: 'bans_tested', type: 'counter', docs: 'Ban and object pairs tested at lookup' },
  { name: 'bans_obj_killed', type: 'counter', docs: 'Objects killed by bans at lookup' },
  { name: 'bans_lurker_tested', type: 'counter', docs: 'Ban and object pairs tested by the ban lurker' },
  { name: 'bans_tests_tested', type: 'counter', docs: 'Ban conditions tested against objects at lookup' },
  { name: 'bans_lurker_tests_tested', type: 'counter', docs: 'Ban conditions tested against objects by the ban lurker' },
  { name: 'bans_lurker_obj_killed', type: 'counter', docs: 'Objects killed by the ban lurker' },
  { name: 'bans_lurker_obj_killed_cutoff', type: 'counter', docs: 'Objects killed by the ban lurker for ban_cutoff' },
  { name: 'bans_dups', type: 'counter', docs: 'Bans made redundant by a newer identical ban' },
  { name: 'bans_lurker_contention', type: 'counter', docs: 'Times the ban lurker gave way to lookups' },
  { name: 'n_purges', type: 'counter', docs: 'Purge operations' },
  { name: 'n_obj_purged', type: 'counter', docs: 'Objects purged' },
  { name: 'esi_errors', type: 'counter', docs: 'ESI parse errors' },
  { name: 'esi_warnings', type: 'counter', docs: 'ESI parse warnings' },
  { name: 'vmods', type: 'gauge', docs: 'VMODs loaded' },
  { name: 'n_gzip', type: 'counter', docs: 'Bodies compressed with gzip' },
  { name: 'n_gunzip', type: 'counter', docs: 'Bodies decompressed' },
  { name: 'n_test_gunzip', type: 'counter', docs: 'Gzipped backend bodies checked by decompressing them' },
  { name: 'gunzip_kept', type: 'counter', docs: 'Inflated bodies of gzipped objects kept for clients without gzip (gunzip_keep_size)' },
  { name: 'gunzip_kept_hit', type: 'counter', docs: 'Deliveries to clients without gzip answered from a kept inflated body' },
  { name: 'gunzip_kept_evicted', type: 'counter', docs: 'Kept inflated bodies dropped to stay within gunzip_keep_size' },
  { name: 'n_gunzip_kept', type: 'gauge', docs: 'Inflated bodies kept now' },
  { name: 'gunzip_kept_bytes', type: 'gauge', format: 'bytes', docs: 'Bytes of inflated bodies kept now' },
] as const satisfies readonly CounterDecl[];

const SMA = [
  { name: 'c_req', type: 'counter', docs: 'Allocations requested' },
  { name: 'c_fail', type: 'counter', docs: 'Allocations refused' },
  { name: 'c_bytes', type: 'counter', format: 'bytes', docs: 'Bytes allocated' },
  { name: 'c_freed', type: 'counter', format: 'bytes', docs: 'Bytes freed' },
  { name: 'g_alloc', type: 'gauge', docs: 'Allocations held now' },
  { name: 'g_bytes', type: 'gauge', format: 'bytes', docs: 'Bytes held now' },
  { name: 'g_space', type: 'gauge', format: 'bytes', docs: 'Bytes still free' },
] as const satisfies readonly CounterDecl[];

/** A file storage (`-s file`) counts as a malloc one, and its ranges as varnishd's smf structs. */
const SMF = [
  ...SMA,
  { name: 'g_smf', type: 'gauge', docs: 'Ranges of the file, held and free' },
  { name: 'g_smf_frag', type: 'gauge', docs: 'Free ranges smaller than 16 KB' },
  { name: 'g_smf_large', type: 'gauge', docs: 'Free ranges of 16 KB or more' },
] as const satisfies readonly CounterDecl[];

const VBE = [
  { name: 'happy', type: 'bitmap', docs: 'Recent health probe results, newest in the lowest bit' },
  { name: 'bereq_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of request heads sent' },
  { name: 'bereq_bodybytes', type: 'counter', format: 'bytes', docs: 'Bytes of request bodies sent' },
  { name: 'beresp_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of response heads received' },
  { name: 'beresp_bodybytes', type: 'counter', format: 'bytes', docs: 'Bytes of response bodies received' },
  { name: 'pipe_hdrbytes', type: 'counter', format: 'bytes', docs: 'Bytes of request heads sent on pipes' },
  { name: 'pipe_out', type: 'counter', format: 'bytes', docs: 'Bytes piped to the backend' },
  { name: 'pipe_in', type: 'counter', format: 'bytes', docs: 'Bytes piped from the backend' },
  { name: 'conn', type: 'gauge', docs: 'Connections in use now' },
  { name: 'req', type: 'counter', docs: 'Requests sent' },
  { name: 'unhealthy', type: 'counter', docs: 'Fetches not attempted: the backend was sick' },
  { name: 'busy', type: 'counter', docs: 'Fetches not attempted: max_connections were in use' },
  { name: 'fail', type: 'counter', docs: 'Connections that could not be opened' },
  { name: 'fail_eacces', type: 'counter', docs: 'Connections not opened: permission denied' },
  { name: 'fail_eaddrnotavail', type: 'counter', docs: 'Connections not opened: no local address free' },
  { name: 'fail_econnrefused', type: 'counter', docs: 'Connections not opened: refused' },
  { name: 'fail_enetunreach', type: 'counter', docs: 'Connections not opened: network unreachable' },
  { name: 'fail_etimedout', type: 'counter', docs: 'Connections not opened: timed out' },
  { name: 'fail_other', type: 'counter', docs: 'Connections not opened: any other reason' },
  { name: 'helddown', type: 'counter', docs: 'Connections not attempted during a holddown after failures' },
] as const satisfies readonly CounterDecl[];

export const COUNTER_TABLE = { MGT, MAIN, SMA, SMF, VBE } as const;

export type MainCounterName = (typeof MAIN)[number]['name'];
export type BackendCounterName = (typeof VBE)[number]['name'];
export type StorageCounterName = (typeof SMF)[number]['name'];

/** What a part hands the registry for MAIN: any subset of the names, as numbers. */
export type MainCounterSource = Readonly<Partial<Record<MainCounterName, number>>>;
export type BackendCounterSource = Readonly<Partial<Record<BackendCounterName, number>>>;
export type StorageCounterSource = Readonly<Partial<Record<StorageCounterName, number>>>;
