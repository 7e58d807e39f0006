import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Resource } from '../../api/types.js';
import type { StoreKey } from '../store/types.js';
import { hostEndpoint, isInstalledControllerService } from './controller-relays.js';

const labels = { app: 'fsm-controller', 'app.kubernetes.io/part-of': 'tessera', 'app.kubernetes.io/component': 'controller' };
const service = (l: Record<string, string> = labels): Resource => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name: 'fsm-controller', namespace: 'fsm-system', labels: l }, spec: { ports: [{ name: 'http', port: 6060 }] },
} as unknown as Resource);
const slice = (addresses: string[], ready = true, port = 46060): Resource => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `fsm-controller-${addresses.join('-')}`, namespace: 'fsm-system', labels: { 'kubernetes.io/service-name': 'fsm-controller' } },
  ports: [{ name: 'http', port }], endpoints: [{ addresses, conditions: { ready } }],
} as unknown as Resource);
const store = (objects: Resource[]) => ({
  get: (k: StoreKey) => objects.find((o) => o.kind === k.kind && o.metadata.namespace === k.namespace && o.metadata.name === k.name),
  list: (kind: string, namespace?: string) => objects.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)),
});

test('only an install\'s controller Service is relayed: its labels, named <mesh>-controller in <mesh>-system', () => {
  assert.equal(isInstalledControllerService(service()), true);
  assert.equal(isInstalledControllerService(service({ app: 'fsm-controller' })), false, 'a look-alike without the install\'s labels');
  assert.equal(isInstalledControllerService(service({ ...labels, 'app.kubernetes.io/component': 'injector' })), false);
  // the labels alone are not enough: anyone with a namespace can write them
  const elsewhere = (namespace: string, name: string): Resource => ({ ...service(), metadata: { ...service().metadata, namespace, name } } as Resource);
  assert.equal(isInstalledControllerService(elsewhere('team', 'fsm-controller')), false, 'the labels in a namespace of its own');
  assert.equal(isInstalledControllerService(elsewhere('fsm-system', 'proxy')), false, 'another name in the mesh\'s namespace');
  assert.equal(isInstalledControllerService(elsewhere('osm-system', 'osm-controller')), true, 'another install\'s own');
});

test('a connection goes to a ready endpoint of the Service\'s port on the host\'s loopback, nowhere else', () => {
  assert.deepEqual(hostEndpoint(store([service(), slice(['127.0.0.1'])]), 'fsm-system', 'fsm-controller', 6060), { host: '127.0.0.1', port: 46060 });
  assert.deepEqual(hostEndpoint(store([service(), slice(['127.9.1.4'], false), slice(['127.9.1.5'], true, 6060)]), 'fsm-system', 'fsm-controller', 6060), { host: '127.9.1.5', port: 6060 }, 'not the unready one');
  assert.equal(hostEndpoint(store([service(), slice(['10.0.0.5', '192.168.1.1'])]), 'fsm-system', 'fsm-controller', 6060), undefined, 'an endpoint off the host\'s loopback is refused');
  assert.equal(hostEndpoint(store([service(), slice(['127.0.0.1'])]), 'fsm-system', 'fsm-controller', 7070), undefined, 'not a port of the Service');
  assert.equal(hostEndpoint(store([slice(['127.0.0.1'])]), 'fsm-system', 'fsm-controller', 6060), undefined, 'no Service');
  const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'fsm-controller', namespace: 'fsm-system' }, subsets: [{ addresses: [{ ip: '127.9.2.3' }], ports: [{ name: 'http', port: 6060 }] }] } as unknown as Resource;
  assert.deepEqual(hostEndpoint(store([service(), endpoints]), 'fsm-system', 'fsm-controller', 6060), { host: '127.9.2.3', port: 6060 }, 'Endpoints when no slice answers');
});
