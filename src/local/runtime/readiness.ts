/** Readiness probes: a TCP connect or an HTTP GET answering 200, each bounded by a short timeout. */
import { request } from 'node:http';
import { connect } from 'node:net';
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
      return httpOk(check.url);
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

export function httpOk(url: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((resolve) => {
    // agent:false: a probe must not reuse a pooled socket to a process that was restarted.
    const req = request(url, { method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(false));
    req.end();
  });
}
