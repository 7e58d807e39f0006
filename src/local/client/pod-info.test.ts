/** What exec gets for a pod: addresses, environment, and the image's own commands first on PATH. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Pod } from '../../api/types.js';
import { podProcessInfo } from './pod-info.js';

const pod = (image: string): Pod => ({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'p', namespace: 'client' },
  spec: { containers: [{ name: 'c', image }] },
  status: { podIP: '127.77.1.9' },
} as Pod);

describe('podProcessInfo', () => {
  it('a fortio pod has fortio first on PATH; others keep the caller\'s PATH', () => {
    const fortio = podProcessInfo(pod('fortio/fortio:latest_release'), 77, '/tmp/state');
    const [first, ...rest] = (fortio.env['PATH'] ?? '').split(':');
    assert.match(first!, /dist\/src\/apps\/fortio\/bin$/);
    assert.equal(rest.join(':'), process.env['PATH'] ?? '/usr/bin:/bin');
    assert.equal(podProcessInfo(pod('curlimages/curl'), 77, '/tmp/state').env['PATH'], undefined);
  });
});
