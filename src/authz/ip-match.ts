/** IP and CIDR matching for ipBlocks and the `*.ip` condition keys, on the socket peer (security-rules.md §1 "Source fields"). */
import { BlockList, isIP } from 'node:net';
import { plainAddress } from '../lib/cidr.js';

export type IpPredicate = (ip: string | undefined) => boolean;

/** Sockets report IPv4 peers of dual-stack listeners as `::ffff:a.b.c.d`; match them as IPv4 (the shared lib/cidr helper). */
export { plainAddress as plainIp } from '../lib/cidr.js';

/** Throws on a value that is not an IP or CIDR (the validator refuses those first). */
export function compileIpMatch(blocks: readonly string[]): IpPredicate {
  const list = new BlockList();
  for (const b of blocks) {
    const [addr, bits] = b.split('/') as [string, string | undefined];
    const family = isIP(addr);
    if (family === 0) throw new Error(`${JSON.stringify(b)} is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(addr, type);
    else list.addSubnet(addr, Number(bits), type);
  }
  return (ip) => {
    if (ip === undefined || ip === '') return false;
    const a = plainAddress(ip);
    const family = isIP(a);
    return family !== 0 && list.check(a, family === 4 ? 'ipv4' : 'ipv6');
  };
}
