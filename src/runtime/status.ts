// HTTP status codes as VCL handles them: the default reason phrase Varnish 7.1 gives each code
// (what `set resp.status` and `return (synth(N))` put in the reason; checked with varnishtest,
// including which codes it does not know), and the range rules for statuses set from VCL.
// A status may be given as N + 1000 * k (1404): VCL reads back the full number, the wire gets
// N % 1000; Varnish allows this so a VCL can mark its own synthetic responses.

import { VclRuntimeError } from './errors.ts';

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue',
  101: 'Switching Protocols',
  102: 'Processing',
  103: 'Early Hints',
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  203: 'Non-Authoritative Information',
  204: 'No Content',
  205: 'Reset Content',
  206: 'Partial Content',
  207: 'Multi-Status',
  208: 'Already Reported',
  226: 'IM Used',
  300: 'Multiple Choices',
  301: 'Moved Permanently',
  302: 'Found',
  303: 'See Other',
  304: 'Not Modified',
  305: 'Use Proxy',
  306: '(Unused)',
  307: 'Temporary Redirect',
  308: 'Permanent Redirect',
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  409: 'Conflict',
  410: 'Gone',
  411: 'Length Required',
  412: 'Precondition Failed',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Long',
  415: 'Unsupported Media Type',
  416: 'Requested Range Not Satisfiable',
  417: 'Expectation Failed',
  421: 'Misdirected Request',
  422: 'Unprocessable Entity',
  423: 'Locked',
  424: 'Failed Dependency',
  425: 'Too Early',
  426: 'Upgrade Required',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  451: 'Unavailable For Legal Reasons',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
  505: 'HTTP Version Not Supported',
  506: 'Variant Also Negotiates',
  507: 'Insufficient Storage',
  508: 'Loop Detected',
  510: 'Not Extended',
  511: 'Network Authentication Required',
};

/** The reason phrase of a status (taken modulo 1000), as Varnish picks it. */
export function statusReason(status: number): string {
  return REASONS[status % 1000] ?? 'Unknown HTTP Status';
}

/**
 * Checks a status set from VCL: at most 65535, not negative, and N % 1000 a three-digit code.
 * `label` names it in the message as Varnish does: "resp.status", "return(synth()) status code".
 */
export function checkStatus(label: string, status: number): number {
  if (status < 0) throw new VclRuntimeError(`${label} (${status}) is negative`);
  if (status > 65535) throw new VclRuntimeError(`${label} (${status}) > 65535`);
  if (status % 1000 < 100) throw new VclRuntimeError(`illegal ${label} (${status}) (..0##)`);
  return status;
}
