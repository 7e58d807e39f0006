/**
 * The simulated proxies of `npm run bench:scale` (bench/scale.ts starts this file as a child process,
 * so the controller's CPU and memory figures are its own). Each proxy is the sidecar's real delivery
 * client (src/sidecar/config StreamClient): a TLS Server-Sent Events stream to the controller with a
 * proxy token, and an ACK per snapshot. Applying is decoding only: the bench measures the control
 * plane, not the sidecar.
 *
 * Protocol on the IPC channel: the parent sends {url, proxies: [{uuid, token}]}; this process answers
 * {started: n} once every stream is opened, and exits on 'stop'. The controller's CA comes from the
 * environment, as a sidecar's does.
 */
import { StreamClient } from '../src/sidecar/config/index.js';
import { SidecarLog } from '../src/sidecar/observability/log.js';

interface Start {
  url: string;
  proxies: { uuid: string; token: string }[];
}

/** Streams opened per batch: a burst of thousands of TLS handshakes at once only measures the accept queue. */
const BATCH = 200;

const BATCH_WAIT_MS = 120_000;
const ALL_WAIT_MS = 600_000;

async function connectedWithin(ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (clients.some((c) => !c.connected) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
}

const log = new SidecarLog(process.env['BENCH_SCALE_PROXY_LOG'] === 'warn' ? 'warn' : 'error', 2);
const clients: StreamClient[] = [];

process.on('message', (msg: unknown) => {
  if (msg === 'stop') {
    for (const c of clients) c.stop();
    // deltas that did not apply fall back to fetching the whole snapshot: worth knowing beside the figures
    const applied = clients.reduce((n, c) => n + c.deltaCounts.applied, 0);
    const refetched = clients.reduce((n, c) => n + c.deltaCounts.refetched, 0);
    process.stderr.write(`bench:scale proxies: ${applied} deltas applied, ${refetched} replaced by the whole snapshot\n`);
    process.exit(0);
  }
  void start(msg as Start);
});

async function start(cfg: Start): Promise<void> {
  for (let i = 0; i < cfg.proxies.length; i += BATCH) {
    for (const p of cfg.proxies.slice(i, i + BATCH)) {
      let applied: string | undefined;
      const client = new StreamClient({
        controllerUrl: cfg.url,
        uuid: p.uuid,
        token: p.token,
        log,
        currentVersion: () => applied,
        apply: async (version) => {
          applied = version;
          return undefined;
        },
      });
      clients.push(client);
      client.start();
    }
    // let this batch's handshakes (and first snapshots, 0.7 MB each at 1,000 services) finish before the next
    await connectedWithin(BATCH_WAIT_MS);
  }
  await connectedWithin(ALL_WAIT_MS);
  process.send?.({ started: clients.filter((c) => c.connected).length });
}
