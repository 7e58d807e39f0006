/** CONNECT tunnels on the outbound proxy: allowed by MeshConfig, and never a way past the outbound chains. */
export { handleConnect } from './connect.js';
export type { ConnectHandlerOptions } from './connect.js';
export { classifySilent, classifyTunnel, judgeAfterSilence } from './classify.js';
export type { TunnelProtocol } from './classify.js';
