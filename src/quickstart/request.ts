/**
 * One HTTP request sent the way `tessera exec POD -- curl` sends it: to the pod's outbound proxy
 * in absolute form, so it goes through the pod's sidecar.
 */
import { request } from 'node:http';

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
