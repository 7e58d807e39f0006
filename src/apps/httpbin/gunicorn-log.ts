/** Log lines in gunicorn 19.9's formats: the error-log prefix and the default access-log line. */

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const pad = (n: number): string => String(n).padStart(2, '0');

/** `[2023-03-29 08:41:04 +0000] [PID] [INFO] message`; times are UTC, as in the container. */
export function gunicornLogLine(message: string, level = 'INFO', pid = process.pid, now = new Date()): string {
  const date = `${now.getUTCFullYear()}-${pad(now.getUTCMonth() + 1)}-${pad(now.getUTCDate())}`;
  const time = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  return `[${date} ${time} +0000] [${pid}] [${level}] ${message}`;
}

export interface AccessEntry {
  remoteAddress: string;
  /** Basic-auth user name, if any. */
  user: string | undefined;
  method: string;
  target: string;
  httpVersion: string;
  status: number;
  /** Body bytes actually sent (0 for HEAD). */
  bytesSent: number;
  referer: string | undefined;
  userAgent: string | undefined;
}

/** `%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s"` */
export function accessLogLine(entry: AccessEntry, now = new Date()): string {
  const day = `${pad(now.getUTCDate())}/${MONTHS[now.getUTCMonth()]}/${now.getUTCFullYear()}`;
  const time = `${pad(now.getUTCHours())}:${pad(now.getUTCMinutes())}:${pad(now.getUTCSeconds())}`;
  const request = `${entry.method} ${entry.target} HTTP/${entry.httpVersion}`;
  return (
    `${entry.remoteAddress} - ${entry.user ?? '-'} [${day}:${time} +0000] "${request}" ` +
    `${entry.status} ${entry.bytesSent} "${entry.referer ?? '-'}" "${entry.userAgent ?? '-'}"`
  );
}

/** gunicorn's `_get_user`: the user name from `Authorization: Basic …`, if it decodes. */
export function basicAuthUser(authorization: string | undefined): string | undefined {
  if (!authorization?.startsWith('Basic')) return undefined;
  const token = authorization.split(' ', 2)[1];
  if (token === undefined) return undefined;
  const decoded = Buffer.from(token.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon === -1 ? undefined : decoded.slice(0, colon);
}
