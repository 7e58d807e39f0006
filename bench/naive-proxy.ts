/**
 * The reference point from perf-anchors.md, measured in the same run: the straightforward Node
 * proxy (node:http server + undici Pool with keep-alive), no chain, no policy.
 */
import { createServer } from 'node:http';
import { Pool } from 'undici';

const [listenHost, listenPort, upstream] = [process.env['HOST']!, Number(process.env['PORT']), process.env['UPSTREAM']!];
const pool = new Pool(`http://${upstream}`, { connections: 128, pipelining: 1 });

createServer((req, res) => {
  pool
    .request({ path: req.url ?? '/', method: req.method as 'GET', headers: { host: req.headers.host ?? upstream } })
    .then(({ statusCode, headers, body }) => {
      res.writeHead(statusCode, headers as Record<string, string>);
      body.pipe(res);
    })
    .catch(() => res.writeHead(502).end());
}).listen(listenPort, listenHost);
