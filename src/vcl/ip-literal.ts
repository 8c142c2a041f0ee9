// IP addresses written as strings in VCL (`client.ip == "192.0.2.1"`). Varnish resolves them
// when compiling; Shellac checks their form here and resolves host names when the VCL loads.

import { parseIpLiteral as parseAddress } from '../common/ip.ts';

const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/;

/** A DNS name (not an IP address) as VCL may write one for an IP value or an ACL entry. */
export function isHostName(text: string): boolean {
  return parseAddress(text) === null && !/^[0-9.]+$/.test(text) && HOST_NAME.test(text);
}

/**
 * The literal as given when it is an IP address (read by the runtime's parser, the one the
 * loader uses) or a host name; undefined otherwise.
 */
export function ipOrHostLiteral(text: string): string | undefined {
  const bare = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (parseAddress(bare) !== null) return bare;
  return HOST_NAME.test(text) ? text : undefined;
}
