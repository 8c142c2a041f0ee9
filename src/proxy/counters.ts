// The client and fetch counters the proxy bumps, named as Varnish names them (MAIN.*). Backends
// count their own MAIN.* ones (src/proxy/backend/counters.ts). The mgmt side reads the plain
// object; what each counter means is said once, in src/mgmt/counter-table.ts.

export const PROXY_COUNTERS = [
  'sess_conn',
  'sess_fail',
  'sess_fail_other',
  'sess_closed',
  'sess_closed_err',
  's_sess',
  'sess_readahead',
  'sess_herd',
  'client_req',
  'client_req_400',
  'client_req_417',
  'cache_hit',
  'cache_hit_grace',
  'cache_miss',
  's_req',
  's_pipe',
  'n_pipe',
  'pipe_limited',
  'sc_pipe_overflow',
  's_pass',
  's_fetch',
  's_bgfetch',
  's_synth',
  's_req_hdrbytes',
  's_req_bodybytes',
  's_resp_hdrbytes',
  's_resp_bodybytes',
  'fetch_failed',
  'fetch_304',
  'fetch_no_thread',
  'beresp_uncacheable',
  'beresp_shortlived',
  'sc_rem_close',
  'sc_req_close',
  'sc_req_http10',
  'sc_rx_bad',
  'sc_rx_body',
  'sc_rx_junk',
  'sc_rx_overflow',
  'sc_rx_timeout',
  'sc_rx_close_idle',
  'sc_tx_pipe',
  'sc_tx_error',
  'sc_resp_close',
  'sc_req_http20',
  'sc_vcl_failure',
  'req_dropped',
  'n_vcl',
  'n_vcl_avail',
  'n_vcl_discard',
  'vcl_fail',
  'esi_req',
  'esi_errors',
  'esi_warnings',
  'n_gzip',
  'n_gunzip',
  'n_test_gunzip',
  'gunzip_kept',
  'gunzip_kept_hit',
  'gunzip_kept_evicted',
  'n_gunzip_kept',
  'gunzip_kept_bytes',
] as const;

export type ProxyCounterName = (typeof PROXY_COUNTERS)[number];
export type ProxyCounters = Record<ProxyCounterName, number>;

export function newProxyCounters(): ProxyCounters {
  const counters = {} as ProxyCounters;
  for (const name of PROXY_COUNTERS) counters[name] = 0;
  return counters;
}
