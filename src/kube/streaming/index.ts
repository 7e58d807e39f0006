/**
 * Server (and client) side of the Kubernetes streaming subresources `pods/exec` and `pods/attach`
 * over SPDY/3.1 and WebSocket, as kubectl speaks them. Independent of any particular HTTP server:
 * hand it the `'upgrade'` event's request, socket and head.
 */
export { acceptAttach, acceptExec, type AcceptExecSettings } from './accept.js';
export { runExecChild } from './child.js';
export { execClient, type ExecClientOptions } from './client.js';
export { ExecClientError, StreamingError, type StreamingErrorReason } from './errors.js';
export { parseAttachQuery, parseExecQuery, type AttachOptions, type ExecOptions } from './options.js';
export { Channel, SPDY_EXEC_PROTOCOLS, WS_EXEC_PROTOCOLS, isStreamUpgrade } from './protocols.js';
export { refuseUpgrade } from './refuse.js';
export type { ExecSession, TerminalSize } from './session.js';
export { resultStatus, type ExecResult, type Status } from './status.js';
export { acceptPortForward, type AcceptPortForwardSettings, type PortConnector, type PortForwardSession } from './portforward.js';
