// The client and fetch counters the proxy bumps, named as Varnish names them (MAIN.*), declared
// once with their docs. Backends count their own MAIN.* ones (src/proxy/backend-counters.ts). The mgmt side reads the plain object; nothing else reaches in.

export const PROXY_COUNTERS = [
  { name: 'sess_conn', gauge: false, doc: 'Client connections accepted' },
  { name: 'sess_closed', gauge: false, doc: 'Client connections closed' },
  { name: 's_sess', gauge: false, doc: 'Client connections handled' },
  { name: 'sess_readahead', gauge: false, doc: 'Requests read while an earlier one on their connection was still served' },
  { name: 'client_req', gauge: false, doc: 'Client requests received' },
  { name: 'client_req_400', gauge: false, doc: 'Client requests refused as malformed (400)' },
  { name: 'cache_hit', gauge: false, doc: 'Requests delivered from the cache' },
  { name: 'cache_hit_grace', gauge: false, doc: 'Cache hits on stale objects, delivered under grace' },
  { name: 'cache_miss', gauge: false, doc: 'Requests that missed the cache' },
  { name: 's_req', gauge: false, doc: 'Requests handled (restarts counted once)' },
  { name: 's_pipe', gauge: false, doc: 'Requests piped to a backend' },
  { name: 's_pass', gauge: false, doc: 'Requests passed to a backend' },
  { name: 's_fetch', gauge: false, doc: 'Backend fetches' },
  { name: 's_bgfetch', gauge: false, doc: 'Background fetches (refreshes under grace)' },
  { name: 's_synth', gauge: false, doc: 'Synthetic responses made' },
  { name: 's_req_hdrbytes', gauge: false, doc: 'Request header bytes received' },
  { name: 's_req_bodybytes', gauge: false, doc: 'Request body bytes received' },
  { name: 's_resp_hdrbytes', gauge: false, doc: 'Response header bytes sent' },
  { name: 's_resp_bodybytes', gauge: false, doc: 'Response body bytes sent' },
  { name: 'fetch_failed', gauge: false, doc: 'Fetches that failed (backend error, abandon, broken body)' },
  { name: 'fetch_304', gauge: false, doc: 'Fetches answered 304 that refreshed a stale object' },
  { name: 'fetch_no_thread', gauge: false, doc: 'Background fetches that could not start' },
  { name: 'sc_rx_bad', gauge: false, doc: 'Connections closed after a malformed request' },
  { name: 'sc_rx_timeout', gauge: false, doc: 'Connections closed idle (timeout_idle)' },
  { name: 'sc_rx_overflow', gauge: false, doc: 'Connections closed after a request head larger than http_req_size' },
  { name: 'sc_rem_close', gauge: false, doc: 'Connections closed by the client' },
  { name: 'sc_vcl_failure', gauge: false, doc: 'Connections closed after a VCL failure' },
  { name: 'req_dropped', gauge: false, doc: 'Requests dropped at shutdown' },
  { name: 'n_vcl', gauge: true, doc: 'Loaded VCLs' },
  { name: 'n_vcl_avail', gauge: true, doc: 'VCLs that are warm' },
  { name: 'n_vcl_discard', gauge: true, doc: 'VCLs discarded and not yet freed' },
  { name: 'vcl_fail', gauge: false, doc: 'VCL failures (return (fail) and runtime errors)' },
] as const;

export type ProxyCounterName = (typeof PROXY_COUNTERS)[number]['name'];
export type ProxyCounters = Record<ProxyCounterName, number>;

export function newProxyCounters(): ProxyCounters {
  const counters = {} as ProxyCounters;
  for (const c of PROXY_COUNTERS) counters[c.name] = 0;
  return counters;
}
