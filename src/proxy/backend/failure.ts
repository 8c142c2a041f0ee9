// Why a backend fetch failed, as a small closed set the backend state machine can switch on
// (every one of them leads to vcl_backend_error), and the mapping from the errors the socket
// layer raises to that set (the response reader makes its own kinds directly).

export type BackendFailureKind =
  /** Not attempted: the backend is sick (by probe or by backend.set_health). */
  | 'unhealthy'
  /** Not attempted: max_connections are in use. */
  | 'busy'
  /** The connection was refused. */
  | 'refused'
  /** Connecting took longer than connect_timeout. */
  | 'connect_timeout'
  /** Any other failure to connect: unreachable, no such socket file, permission. */
  | 'connect_error'
  /** The response headers did not arrive within first_byte_timeout. */
  | 'first_byte_timeout'
  /** The body stalled longer than between_bytes_timeout. */
  | 'between_bytes_timeout'
  /** The backend closed or reset the connection before the response was complete. */
  | 'reset'
  /** The backend sent something that is not HTTP, or headers too big. */
  | 'garbage'
  /** The fetch was aborted by its caller. */
  | 'aborted'
  | 'other';

/** A failed fetch: a value, never an exception. */
export interface BackendFailure {
  readonly ok: false;
  readonly kind: BackendFailureKind;
  /** For logs: what went wrong, naming the backend. */
  readonly message: string;
  /** The system error code, when there was one. */
  readonly code: string | undefined;
}

/** Thrown by a response body's iterator when the body cannot be read to its end. */
export class BackendBodyError extends Error {
  override readonly name = 'BackendBodyError';
  readonly kind: BackendFailureKind;
  readonly code: string | undefined;

  constructor(kind: BackendFailureKind, message: string, code: string | undefined) {
    super(message);
    this.kind = kind;
    this.code = code;
  }
}

// EHOLDDOWN is Shellac's: no connection was tried, a holddown after a failure was running.
const CONNECT_ERRORS = new Set(['EHOLDDOWN', 'ENOENT', 'EACCES', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ENOTSOCK', 'ENOTFOUND', 'EAI_AGAIN']);
const RESET_ERRORS = new Set(['ECONNRESET', 'EPIPE']);

/** Sorts an error from a socket into a failure kind. */
export function classifyError(err: unknown): BackendFailureKind {
  const e = err as { code?: unknown } | null;
  const code = typeof e?.code === 'string' ? e.code : '';
  switch (code) {
    case 'ECONNREFUSED':
      return 'refused';
    case 'ETIMEDOUT':
      return 'connect_timeout';
    case 'ABORT_ERR':
      return 'aborted';
  }
  if (CONNECT_ERRORS.has(code)) return 'connect_error';
  if (RESET_ERRORS.has(code)) return 'reset';
  return 'other';
}

export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
