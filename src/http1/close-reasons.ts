// Why a client connection closed, as Varnish names the reasons (MAIN.sc_*), and whether the
// reason is an error (MAIN.sess_closed_err), as varnishd 7.1 counts them (an HTTP/1.0 request
// without keep-alive and an idle timeout count as errors there too). One table: the connection
// counts from it.

export const CLOSE_REASONS = {
  rem_close: false,
  req_close: false,
  req_http10: true,
  rx_bad: true,
  rx_body: true,
  rx_junk: true,
  rx_overflow: true,
  rx_timeout: true,
  rx_close_idle: true,
  tx_pipe: false,
  tx_error: true,
  resp_close: false,
  req_http20: true,
  vcl_failure: true,
  pipe_overflow: true,
} as const satisfies Record<string, boolean>;

export type CloseReason = keyof typeof CLOSE_REASONS;
export type CloseCounterName = `sc_${CloseReason}`;

/** The counters the HTTP/1 layer bumps; the proxy hands its MAIN counters in. */
export type Http1Counters = Record<
  CloseCounterName | 'sess_conn' | 's_sess' | 'sess_closed' | 'sess_closed_err' | 'sess_readahead' | 'sess_herd' | 'client_req_400' | 'client_req_417' | 's_req_hdrbytes' | 's_resp_hdrbytes',
  number
>;
