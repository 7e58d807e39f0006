/** UDP in the sidecar: inbound relays for SMI UDPRoutes, and how a pod's sender address maps to its pod IP. */
export { InboundUdp, type InboundUdpOptions, type UdpPolicy } from './inbound-udp.js';
export { DropLog } from './drop-log.js';
