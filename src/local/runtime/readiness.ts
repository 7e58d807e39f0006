/**
 * Readiness probes: a TCP connect, an HTTP GET answering 200, or an HTTPS GET answering 200 from a
 * server whose certificate chains to a given CA (the control plane's components: a process that
 * squats their address fails the probe) — each bounded by a short timeout.
 */
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect, isIP } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { ReadinessCheck } from './types.js';

const PROBE_TIMEOUT_MS = 1_000;
/** Probe this often until ready (so pods turn Ready quickly) … */
export const PROBE_UNTIL_READY_MS = 500;
/** … then this often, to notice an app that stopped answering. */
export const PROBE_WHEN_READY_MS = 5_000;

export async function probe(check: ReadinessCheck): Promise<boolean> {
  switch (check.kind) {
    case 'started':
      return true;
    case 'tcp':
      for (const port of check.ports) if (!(await tcpConnects(check.host, port))) return false;
      return true;
    case 'http':
      return httpOk(check.url, PROBE_TIMEOUT_MS, check.headers);
    case 'https':
      return httpsOk(check.url, check.caFile);
    case 'https-unverified':
      return httpsAnswers(check.url, PROBE_TIMEOUT_MS, check.headers);
  }
}

function tcpConnects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port, timeout: PROBE_TIMEOUT_MS });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export function httpOk(url: string, timeoutMs = PROBE_TIMEOUT_MS, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    // agent:false: a probe must not reuse a pooled socket to a process that was restarted.
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs, headers }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

function readCa(caFile: string): string | undefined {
  try {
    return readFileSync(caFile, 'utf8');
  } catch {
    return undefined;
  }
}

/** 200 over TLS from a server whose certificate chains to the CA in `caFile` (only that CA) and names the host. */
export function httpsOk(url: string, caFile: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const ca = readCa(caFile);
  if (ca === undefined) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = httpsRequest(url, { method: 'GET', agent: false, timeout: timeoutMs, ca, rejectUnauthorized: true }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/**
 * 200 over TLS from whatever answers, as the kubelet's HTTPS probes (they do not verify the
 * certificate): only what a pod's own probe asks for, never a control-plane identity check.
 */
export function httpsAnswers(url: string, timeoutMs = PROBE_TIMEOUT_MS, headers: Record<string, string> = {}): Promise<boolean> {
  return new Promise((resolve) => {
    const req = httpsRequest(url, { method: 'GET', agent: false, timeout: timeoutMs, headers, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}

/** What answers at an address, judged by its TLS certificate against the CA. */
export type Answerer =
  | { kind: 'nobody' }
  /** a TLS server whose certificate chains to the CA and names the host */
  | { kind: 'ours' }
  /** a TLS server with a certificate the CA did not issue (or for another name) */
  | { kind: 'impostor'; reason: string }
  /** something accepted the connection but did not complete a TLS handshake */
  | { kind: 'not-tls'; reason: string };

/**
 * Who holds `host:port`: nobody, a server with a certificate of `caPem`, or someone else. Used to
 * tell "still starting" from "another process took the address" (which would never turn ready).
 */
export function whoAnswers(host: string, port: number, caPem: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<Answerer> {
  return new Promise((resolve) => {
    let connected = false;
    const socket = tlsConnect({ host, port, ca: caPem, servername: undefined, rejectUnauthorized: false, timeout: timeoutMs });
    socket.once('connect', () => (connected = true));
    const done = (a: Answerer): void => {
      socket.destroy();
      resolve(a);
    };
    socket.once('secureConnect', () => {
      if (!socket.authorized) return done({ kind: 'impostor', reason: `its certificate is not from this mesh's cluster CA (${String(socket.authorizationError)})` });
      const cert = socket.getPeerX509Certificate();
      if (!cert || (isIP(host) ? cert.checkIP(host) : cert.checkHost(host)) === undefined) return done({ kind: 'impostor', reason: `its certificate (${cert?.subject ?? 'none'}) does not name ${host}` });
      done({ kind: 'ours' });
    });
    socket.once('timeout', () => done(connected ? { kind: 'not-tls', reason: 'it accepted the connection but did not complete a TLS handshake' } : { kind: 'nobody' }));
    socket.once('error', (e: NodeJS.ErrnoException) => {
      if (!connected && (e.code === 'ECONNREFUSED' || e.code === 'EADDRNOTAVAIL' || e.code === 'ENETUNREACH')) return done({ kind: 'nobody' });
      done(connected ? { kind: 'not-tls', reason: `the TLS handshake failed (${e.code ?? e.message})` } : { kind: 'nobody' });
    });
  });
}
