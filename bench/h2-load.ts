/**
 * A bounded HTTP/2 load generator for the bench (h2load is not on every machine): `SESSIONS` h2c
 * connections each keep `STREAMS` GET streams in flight for `SECONDS`, then it prints one JSON line
 * shaped like WrkResult. Run pinned beside wrk's core; stops at the deadline whatever happens.
 *   node h2-load.js URL AUTHORITY SESSIONS STREAMS SECONDS
 */
import { connect, type ClientHttp2Session } from 'node:http2';

const [url = '', authority = '', sessionsArg = '10', streamsArg = '5', secondsArg = '5'] = process.argv.slice(2);
const SESSIONS = Number(sessionsArg);
const STREAMS = Number(streamsArg);
const deadline = Date.now() + Number(secondsArg) * 1000;
const path = new URL(url).pathname;
const latencies: number[] = [];
let errors = 0;
let non2xx = 0;

function one(session: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const req = session.request({ ':method': 'GET', ':path': path, ':authority': authority });
    req.on('response', (h) => {
      const s = Number(h[':status']);
      if (s < 200 || s > 299) non2xx++;
    });
    req.on('data', () => undefined);
    req.on('end', () => {
      latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
      resolve();
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end();
  });
}

async function lane(session: ClientHttp2Session): Promise<void> {
  while (Date.now() < deadline && !session.destroyed) await one(session);
}

async function main(): Promise<void> {
  const sessions = Array.from({ length: SESSIONS }, () => {
    const s = connect(url);
    s.on('error', () => errors++);
    return s;
  });
  const started = Date.now();
  await Promise.all(sessions.flatMap((s) => Array.from({ length: STREAMS }, () => lane(s))));
  const seconds = (Date.now() - started) / 1000;
  for (const s of sessions) s.destroy();
  latencies.sort((x, y) => x - y);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  process.stdout.write(`${JSON.stringify({ requests: latencies.length, rps: latencies.length / seconds, p50ms: at(0.5), p99ms: at(0.99), errors, non2xx })}\n`);
}

void main();
