/** Watches with selectors report objects entering and leaving the selection, as the watch cache does. */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { test } from 'node:test';
import { testKubeApi } from './test-server.js';

interface WatchEvent {
  type: string;
  object: { metadata: { name: string; labels?: Record<string, string> } };
}

/** Opens a watch and returns a reader of its events and a way to close it. */
function openWatch(port: number, path: string): Promise<{ next(): Promise<WatchEvent>; close(): void }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { accept: 'application/json' } }, (res) => {
      let buffer = '';
      const queue: WatchEvent[] = [];
      const waiters: ((e: WatchEvent) => void)[] = [];
      res.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const event = JSON.parse(buffer.slice(0, nl)) as WatchEvent;
          buffer = buffer.slice(nl + 1);
          const w = waiters.shift();
          if (w) w(event);
          else queue.push(event);
        }
      });
      resolve({
        next: () => {
          const e = queue.shift();
          if (e) return Promise.resolve(e);
          return new Promise<WatchEvent>((r, rej) => {
            const timer = setTimeout(() => rej(new Error('no watch event within 5 s')), 5000);
            waiters.push((ev) => (clearTimeout(timer), r(ev)));
          });
        },
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}

test('a label-selected watch: ADDED when an object starts matching, DELETED when it stops', async (t) => {
  const send = await testKubeApi(t);
  const cm = (labels: Record<string, string>) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', labels } });
  await send('POST', '/api/v1/namespaces/demo/configmaps', cm({ tier: 'back' }));
  const watch = await openWatch(send.port, '/api/v1/namespaces/demo/configmaps?watch=true&labelSelector=tier%3Dfront');
  t.after(() => watch.close());

  await send('PATCH', '/api/v1/namespaces/demo/configmaps/c', { metadata: { labels: { tier: 'front' } } }, 'application/merge-patch+json');
  const added = await watch.next();
  assert.deepEqual([added.type, added.object.metadata.labels?.['tier']], ['ADDED', 'front']);

  await send('PATCH', '/api/v1/namespaces/demo/configmaps/c', { metadata: { labels: { tier: 'front', v: '2' } } }, 'application/merge-patch+json');
  assert.equal((await watch.next()).type, 'MODIFIED');

  await send('PATCH', '/api/v1/namespaces/demo/configmaps/c', { metadata: { labels: { tier: 'back' } } }, 'application/merge-patch+json');
  const left = await watch.next();
  assert.deepEqual([left.type, left.object.metadata.name], ['DELETED', 'c']);

  // Deleting an object that no longer matches sends nothing more; one that matches is DELETED once.
  await send('POST', '/api/v1/namespaces/demo/configmaps', { ...cm({ tier: 'front' }), metadata: { name: 'd', labels: { tier: 'front' } } });
  assert.equal((await watch.next()).type, 'ADDED');
  await send('DELETE', '/api/v1/namespaces/demo/configmaps/c');
  await send('DELETE', '/api/v1/namespaces/demo/configmaps/d');
  const gone = await watch.next();
  assert.deepEqual([gone.type, gone.object.metadata.name], ['DELETED', 'd']);
});
