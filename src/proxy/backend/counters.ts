// What backends count, as plain objects of numbers: one per backend (Varnish shows these as
// VBE.<vcl>.<backend>.<name>) and the process-wide ones they add to (MAIN.backend_conn...). The
// counters part owns naming and reading; backends only increment fields here, so the hot path
// pays one property increment per event.

/** One backend's counters, named as Varnish 7.1 names the VBE fields. */
export interface BackendCounters {
  /** The happy bitmap of the probe, newest result in bit 0 (the low 52 bits, so it stays exact). */
  happy: number;
  bereq_hdrbytes: number;
  bereq_bodybytes: number;
  beresp_hdrbytes: number;
  beresp_bodybytes: number;
  pipe_hdrbytes: number;
  /** Piped bytes sent to the backend. */
  pipe_out: number;
  /** Piped bytes received from the backend. */
  pipe_in: number;
  /** Connections open now (a gauge). */
  conn: number;
  /** Requests sent. */
  req: number;
  /** Fetches not attempted because the backend was sick. */
  unhealthy: number;
  /** Fetches not attempted because max_connections were in use. */
  busy: number;
  /** Connections that could not be opened, and why. */
  fail: number;
  fail_econnrefused: number;
  fail_etimedout: number;
  fail_other: number;
  /** Connections not tried: a holddown after a failure was running. */
  helddown: number;
}

/** The process-wide counters backends and pipes add to (a subset of Varnish's MAIN). */
export interface BackendGlobalCounters {
  /** Connections opened. */
  backend_conn: number;
  /** Fetches not attempted: the backend was sick. */
  backend_unhealthy: number;
  /** Fetches not attempted: max_connections reached. */
  backend_busy: number;
  /** Connections that could not be opened. */
  backend_fail: number;
  /** Requests sent on a connection that had carried one before. */
  backend_reuse: number;
  /** Connections put back in the pool after a clean exchange, to carry another request. */
  backend_recycle: number;
  /** Requests sent. */
  backend_req: number;
  /** Requests sent again on a new connection after a reused one closed without an answer. */
  backend_retry: number;
  /** Request header bytes of piped sessions. */
  s_pipe_hdrbytes: number;
  /** Piped bytes from clients. */
  s_pipe_in: number;
  /** Piped bytes to clients. */
  s_pipe_out: number;
}

export function newBackendCounters(): BackendCounters {
  return {
    happy: 0,
    bereq_hdrbytes: 0,
    bereq_bodybytes: 0,
    beresp_hdrbytes: 0,
    beresp_bodybytes: 0,
    pipe_hdrbytes: 0,
    pipe_out: 0,
    pipe_in: 0,
    conn: 0,
    req: 0,
    unhealthy: 0,
    busy: 0,
    fail: 0,
    fail_econnrefused: 0,
    fail_etimedout: 0,
    fail_other: 0,
    helddown: 0,
  };
}

export function newBackendGlobalCounters(): BackendGlobalCounters {
  return {
    backend_conn: 0,
    backend_unhealthy: 0,
    backend_busy: 0,
    backend_fail: 0,
    backend_reuse: 0,
    backend_recycle: 0,
    backend_req: 0,
    backend_retry: 0,
    s_pipe_hdrbytes: 0,
    s_pipe_in: 0,
    s_pipe_out: 0,
  };
}
