/** Address formatting shared by the section builders. */

/** `ip:port`, with brackets for IPv6. */
export function hostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The single-address CIDR of an IP: /32 for IPv4, /128 for IPv6. */
export function hostCidr(ip: string): string {
  return ip.includes(':') ? `${ip}/128` : `${ip}/32`;
}
