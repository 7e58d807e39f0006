/**
 * One HTTP request sent the way `tessera exec POD -- curl` sends it: in loopback mode to the pod's
 * outbound proxy in absolute form, in namespace mode from inside the pod; either way through the
 * pod's sidecar.
 */
import { request } from 'node:http';
import { runInPod, type PodSandbox } from '../local/sandbox/index.js';

export interface ProxiedResult {
  status: number;
  statusText: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function requestViaProxy(proxyUrl: string, url: string, method = 'GET', timeoutMs = 10_000): Promise<ProxiedResult> {
  const proxy = new URL(proxyUrl);
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: proxy.hostname,
        port: Number(proxy.port),
        method,
        path: target.href,
        headers: { host: target.host, 'user-agent': 'tessera-quickstart' },
        timeout: timeoutMs,
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            statusText: res.statusMessage ?? '',
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Namespace mode: the request is made inside the pod (as `tessera exec POD -- curl -Is` does), so
 * the pod's interception takes it to its sidecar; there is no proxy to dial from the host.
 */
export function requestInPod(sandbox: PodSandbox, appUid: number, url: string, method = 'GET', timeoutMs = 10_000): Promise<ProxiedResult> {
  const child = runInPod(sandbox, ['curl', '-s', ...(method === 'HEAD' ? ['-I'] : ['-i', '-X', method]), '-m', String(Math.ceil(timeoutMs / 1000)), '-A', 'tessera-quickstart', url], {
    uid: appUid, env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: '/tmp' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.once('error', reject);
    child.once('close', (code) => {
      const [head = '', body = ''] = out.split(/\r?\n\r?\n/, 2);
      const [status, ...lines] = head.split(/\r?\n/);
      const m = /^HTTP\/[\d.]+ (\d{3}) ?(.*)$/.exec(status ?? '');
      if (!m) return reject(new Error(`curl in the pod (exit ${code}) gave no HTTP answer from ${url}: ${err.trim() || out.trim()}`));
      const headers: Record<string, string> = {};
      for (const l of lines) {
        const i = l.indexOf(':');
        if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
      }
      resolve({ status: Number(m[1]), statusText: m[2] ?? '', headers, body });
    });
  });
}
