/** Names and framing constants of the Kubernetes remote-command and port-forward subprotocols. */
import type { IncomingMessage } from 'node:http';

export const STREAM_PROTOCOL_HEADER = 'x-stream-protocol-version';

/** SPDY remote-command versions this server speaks, best first (v1 has no error stream and is not offered). */
export const SPDY_EXEC_PROTOCOLS = ['v4.channel.k8s.io', 'v3.channel.k8s.io', 'v2.channel.k8s.io'] as const;
/** WebSocket remote-command subprotocols, best first. */
export const WS_EXEC_PROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v4.base64.channel.k8s.io'] as const;

export const SPDY_PORT_FORWARD_PROTOCOL = 'portforward.k8s.io';
/** kubectl ≥1.31 tunnels the SPDY port-forward session through a WebSocket under this subprotocol. */
export const WS_PORT_FORWARD_TUNNEL = 'SPDY/3.1+portforward.k8s.io';

/** Channel numbers of the WebSocket framing; the same ids name the SPDY `streamType`s. */
export const Channel = { stdin: 0, stdout: 1, stderr: 2, error: 3, resize: 4 } as const;
/** v5's CLOSE signal: a message `[255, channel]` half-closes that channel. */
export const CLOSE_SIGNAL = 255;

export type StreamType = keyof typeof Channel;

/** Header values of one name, whether sent as repeated headers or one comma-joined header. */
export function headerList(req: IncomingMessage, name: string): string[] {
  const raw = req.headersDistinct?.[name] ?? [];
  return raw.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

/** The first of the client's protocols this side also speaks (the client's order wins, as in apimachinery). */
export function negotiate(client: readonly string[], server: readonly string[]): string | undefined {
  return client.find((p) => server.includes(p));
}

export type UpgradeKind = 'websocket' | 'spdy';

export function upgradeKind(req: IncomingMessage): UpgradeKind | undefined {
  const connection = headerList(req, 'connection').map((v) => v.toLowerCase());
  if (!connection.includes('upgrade')) return undefined;
  const upgrade = (req.headers.upgrade ?? '').toLowerCase();
  if (upgrade === 'websocket') return 'websocket';
  if (upgrade.startsWith('spdy/3')) return 'spdy';
  return undefined;
}

/** Whether `req` asks to switch to one of the stream protocols (WebSocket or SPDY/3.1). */
export function isStreamUpgrade(req: IncomingMessage): boolean {
  return upgradeKind(req) !== undefined;
}
