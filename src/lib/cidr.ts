/** CIDR parsing and membership for AccessControl IP ranges (validation, compiler and sidecar share it). */
import { BlockList, isIP } from 'node:net';

export interface Cidr {
  /** the network address as written (host bits may be set, as Go's net.ParseCIDR allows) */
  address: string;
  prefix: number;
  family: 'ipv4' | 'ipv6';
}

/** Parses `a.b.c.d/n` or `v6/n`; a prefix is required (FSM parses IPRange names with net.ParseCIDR). */
export function parseCidr(value: string): Cidr | undefined {
  const slash = value.indexOf('/');
  if (slash <= 0) return undefined;
  const address = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const version = isIP(address);
  if (version === 0 || !/^\d{1,3}$/.test(bits)) return undefined;
  const prefix = Number(bits);
  if (prefix > (version === 4 ? 32 : 128)) return undefined;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** A socket's address with an IPv4-mapped IPv6 prefix removed (`::ffff:10.0.0.1` → `10.0.0.1`). */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/**
 * One BlockList per parsed range: ranges are parsed once per snapshot but checked per connection or
 * request, so the list is built on the first check and kept with the range.
 */
const compiled = new WeakMap<Cidr, BlockList>();

/** True when `address` (a socket's remote address) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, address: string): boolean {
  const ip = plainAddress(address);
  const version = isIP(ip);
  if (version === 0 || (version === 4) !== (cidr.family === 'ipv4')) return false;
  let list = compiled.get(cidr);
  if (list === undefined) {
    list = new BlockList();
    list.addSubnet(cidr.address, cidr.prefix, cidr.family);
    compiled.set(cidr, list);
  }
  return list.check(ip, cidr.family);
}
