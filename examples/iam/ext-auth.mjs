// The IAM walkthrough's authentication service: 200 when the request carries an accepted
// x-iam-token, else 401. Tokens come from ACCEPT_TOKENS (comma separated).
import { createServer } from 'node:http';
import { timingSafeEqual } from 'node:crypto';

const accepted = (process.env.ACCEPT_TOKENS ?? '').split(',').map((t) => t.trim()).filter(Boolean).map((t) => Buffer.from(t));
const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8079);

function allowed(token) {
  if (typeof token !== 'string' || token === '') return false;
  const presented = Buffer.from(token);
  // compare in constant time so response timing does not leak how much of a token matched
  return accepted.some((t) => t.length === presented.length && timingSafeEqual(t, presented));
}

createServer((req, res) => {
  const ok = allowed(req.headers['x-iam-token']);
  console.log(`${new Date().toISOString()} ${req.method} ${req.url} -> ${ok ? 200 : 401}`);
  res.writeHead(ok ? 200 : 401, { 'content-length': '0' }).end();
}).listen(port, host, () => console.log(`ext-auth listening on ${host}:${port}`));
