/** Namespace, Service, Endpoints, ConfigMap, Secret, ServiceAccount, Event, Deployment, EndpointSlice. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  configMapPrinter,
  deploymentPrinter,
  endpointSlicePrinter,
  endpointsPrinter,
  eventPrinter,
  eventsV1Printer,
  formatEndpoints,
  labelSelectorString,
  namespacePrinter,
  secretPrinter,
  serviceAccountPrinter,
  servicePrinter,
  type Printer,
} from './index.js';
import { DAY, HOUR, MIN, NOW, SEC, ago } from './testing.js';

const meta = (name: string, age = 4 * HOUR) => ({ name, namespace: 'demo', creationTimestamp: ago(age) });
const header = (p: Printer) => p.columns.map((c) => (c.priority > 0 ? `${c.name}*` : c.name));

test('Namespace: NAME STATUS AGE', () => {
  assert.deepEqual(header(namespacePrinter), ['Name', 'Status', 'Age']);
  assert.deepEqual(namespacePrinter.row({ metadata: meta('tessera', 30 * DAY), status: { phase: 'Active' } }, NOW).cells, ['tessera', 'Active', '30d']);
  assert.deepEqual(namespacePrinter.row({ metadata: meta('old'), status: { phase: 'Terminating' } }, NOW).cells[1], 'Terminating');
});

test('Service: columns and a ClusterIP service with several ports', () => {
  assert.deepEqual(header(servicePrinter), ['Name', 'Type', 'Cluster-IP', 'External-IP', 'Port(s)', 'Age', 'Selector*']);
  const svc = {
    metadata: meta('httpbin', 3 * MIN + 2 * SEC),
    spec: {
      type: 'ClusterIP',
      clusterIP: '10.96.12.34',
      clusterIPs: ['10.96.12.34'],
      selector: { version: 'v1', app: 'httpbin' },
      ports: [
        { name: 'http', port: 8000, targetPort: 8080, protocol: 'TCP' },
        { name: 'grpc', port: 9000, protocol: 'TCP' },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
    },
  };
  assert.deepEqual(servicePrinter.row(svc, NOW).cells, ['httpbin', 'ClusterIP', '10.96.12.34', '<none>', '8000/TCP,9000/TCP,53/UDP', '3m2s', 'app=httpbin,version=v1']);
});

test('Service: NodePort ports carry the node port; the protocol defaults to TCP', () => {
  const svc = {
    metadata: meta('gateway'),
    spec: {
      type: 'NodePort',
      clusterIPs: ['10.96.0.50'],
      externalIPs: ['192.0.2.10'],
      ports: [
        { port: 80, nodePort: 30080 },
        { port: 443, nodePort: 30443, protocol: 'TCP' },
      ],
    },
  };
  assert.deepEqual(servicePrinter.row(svc, NOW).cells.slice(1, 5), ['NodePort', '10.96.0.50', '192.0.2.10', '80:30080/TCP,443:30443/TCP']);
  assert.equal(servicePrinter.row(svc, NOW).cells[6], '<none>');
});

test('Service: LoadBalancer pending, with sorted ingress points (never clipped), ExternalName, headless', () => {
  const lb = (ingress: object[], externalIPs: string[] = []) => ({
    metadata: meta('lb'),
    spec: { type: 'LoadBalancer', clusterIP: '10.96.0.9', externalIPs, ports: [{ port: 443, nodePort: 31443, protocol: 'TCP' }] },
    status: { loadBalancer: { ingress } },
  });
  assert.equal(servicePrinter.row(lb([]), NOW).cells[3], '<pending>');
  assert.equal(
    servicePrinter.row(lb([{ ip: '203.0.113.9' }, { hostname: 'a-very-long-load-balancer.example.com' }, { ip: '203.0.113.9' }]), NOW).cells[3],
    '203.0.113.9,a-very-long-load-balancer.example.com',
  );
  assert.equal(servicePrinter.row(lb([{ ip: '203.0.113.9' }], ['192.0.2.1']), NOW).cells[3], '203.0.113.9,192.0.2.1');

  const external = { metadata: meta('db'), spec: { type: 'ExternalName', externalName: 'db.example.com' } };
  assert.deepEqual(servicePrinter.row(external, NOW).cells.slice(1, 5), ['ExternalName', '<none>', 'db.example.com', '<none>']);

  const headless = { metadata: meta('peers'), spec: { clusterIP: 'None', ports: [{ port: 7000, protocol: 'TCP' }] } };
  assert.deepEqual(servicePrinter.row(headless, NOW).cells.slice(1, 4), ['ClusterIP', 'None', '<none>']);
});

test('Endpoints: ip:port pairs, "+ N more...", bare IPs without ports, <none>', () => {
  assert.deepEqual(header(endpointsPrinter), ['Name', 'Endpoints', 'Age']);
  const ep = {
    metadata: meta('httpbin'),
    subsets: [
      {
        addresses: [{ ip: '10.244.1.7' }, { ip: '10.244.2.8' }],
        notReadyAddresses: [{ ip: '10.244.3.9' }],
        ports: [
          { name: 'http', port: 8080, protocol: 'TCP' },
          { name: 'grpc', port: 9090, protocol: 'TCP' },
        ],
      },
    ],
  };
  assert.deepEqual(endpointsPrinter.row(ep, NOW).cells, ['httpbin', '10.244.1.7:8080,10.244.2.8:8080,10.244.1.7:9090 + 1 more...', '4h']);
  assert.equal(formatEndpoints({ subsets: [{ addresses: [{ ip: 'fd00::1' }], ports: [{ port: 80 }] }] }), '[fd00::1]:80');
  assert.equal(formatEndpoints({ subsets: [{ addresses: [{ ip: '10.0.0.1' }, { ip: '10.0.0.2' }] }] }), '10.0.0.1,10.0.0.2');
  assert.equal(formatEndpoints({ subsets: [] }), '<none>');
  assert.equal(formatEndpoints({ subsets: [{ notReadyAddresses: [{ ip: '10.0.0.3' }], ports: [{ port: 80 }] }] }), '');
});

test('ConfigMap counts data and binaryData keys; integer cells', () => {
  assert.deepEqual(header(configMapPrinter), ['Name', 'Data', 'Age']);
  const cm = { metadata: meta('mesh-config'), data: { 'mesh.yaml': '...', 'ca.crt': '...' }, binaryData: { 'logo.png': 'iVBOR' } };
  assert.deepEqual(configMapPrinter.row(cm, NOW).cells, ['mesh-config', 3, '4h']);
  assert.deepEqual(configMapPrinter.row({ metadata: meta('empty') }, NOW).cells[1], 0);
});

test('Secret with 3 keys: NAME TYPE DATA AGE', () => {
  assert.deepEqual(header(secretPrinter), ['Name', 'Type', 'Data', 'Age']);
  const secret = {
    metadata: meta('istio-ca', 90 * DAY),
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': 'LS0t', 'tls.key': 'LS0t', 'ca.crt': 'LS0t' },
  };
  assert.deepEqual(secretPrinter.row(secret, NOW).cells, ['istio-ca', 'kubernetes.io/tls', 3, '90d']);
  assert.deepEqual(secretPrinter.row({ metadata: meta('plain') }, NOW).cells.slice(1, 3), ['Opaque', 0]);
});

test('ServiceAccount: NAME SECRETS AGE', () => {
  assert.deepEqual(header(serviceAccountPrinter), ['Name', 'Secrets', 'Age']);
  assert.deepEqual(serviceAccountPrinter.row({ metadata: meta('default') }, NOW).cells, ['default', 0, '4h']);
  assert.deepEqual(serviceAccountPrinter.row({ metadata: meta('legacy'), secrets: [{ name: 'legacy-token-x' }] }, NOW).cells[1], 1);
});

test('Event: LAST SEEN first, NAME last and wide; cells for every column', () => {
  assert.deepEqual(header(eventPrinter), ['Last Seen', 'Type', 'Reason', 'Object', 'Subobject*', 'Source*', 'Message', 'First Seen*', 'Count*', 'Name*']);
  assert.equal(eventPrinter.columns[9]!.format, 'name');
  const event = {
    metadata: meta('web-7d8f9c6b5d-x2x7q.17c1a2b3c4d5e6f7', 10 * MIN),
    involvedObject: { kind: 'Pod', name: 'web-7d8f9c6b5d-x2x7q', namespace: 'demo', fieldPath: 'spec.containers{web}' },
    reason: 'BackOff',
    message: 'Back-off restarting failed container web\n',
    source: { component: 'kubelet', host: 'node-1' },
    firstTimestamp: ago(10 * MIN),
    lastTimestamp: ago(30 * SEC),
    count: 7,
    type: 'Warning',
  };
  assert.deepEqual(eventPrinter.row(event, NOW).cells, [
    '30s',
    'Warning',
    'BackOff',
    'pod/web-7d8f9c6b5d-x2x7q',
    'spec.containers{web}',
    'kubelet, node-1',
    'Back-off restarting failed container web',
    '10m',
    7,
    'web-7d8f9c6b5d-x2x7q.17c1a2b3c4d5e6f7',
  ]);
});

test('Event: new-style events use eventTime, series and the reporting controller; singletons count 1', () => {
  const event = {
    metadata: meta('demo.abc', HOUR),
    involvedObject: { kind: 'Namespace', name: '' },
    reason: 'Scheduled',
    message: 'ok',
    eventTime: '2024-05-01T11:00:00.123456Z',
    reportingComponent: 'tessera-controller',
    reportingInstance: '',
    type: 'Normal',
  };
  const cells = eventPrinter.row(event, NOW).cells;
  // 59m59.877s: durations truncate, they never round up
  assert.deepEqual([cells[0], cells[3], cells[5], cells[7], cells[8]], ['59m', 'namespace', 'tessera-controller', '59m', 1]);
  const series = { ...event, series: { count: 4, lastObservedTime: ago(2 * MIN) } };
  assert.deepEqual([eventPrinter.row(series, NOW).cells[0], eventPrinter.row(series, NOW).cells[8]], ['2m', 4]);
});

test('events.k8s.io/v1 Events print the same table from their own field names', () => {
  const event = {
    apiVersion: 'events.k8s.io/v1',
    kind: 'Event',
    metadata: meta('web.1'),
    eventTime: ago(5 * MIN),
    reportingController: 'tessera.dev/injector',
    reportingInstance: 'injector-0',
    action: 'Inject',
    reason: 'Injected',
    regarding: { kind: 'Pod', name: 'web' },
    note: 'sidecar injected',
    type: 'Normal',
  };
  assert.deepEqual(eventsV1Printer.row(event, NOW).cells, ['5m', 'Normal', 'Injected', 'pod/web', '', 'tessera.dev/injector, injector-0', 'sidecar injected', '5m', 1, 'web.1']);
});

test('Deployment 2/3: READY UP-TO-DATE AVAILABLE AGE | CONTAINERS IMAGES SELECTOR', () => {
  assert.deepEqual(header(deploymentPrinter), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers*', 'Images*', 'Selector*']);
  const deployment = {
    metadata: meta('web', 2 * DAY),
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front', 'edge'] }] },
      template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }, { name: 'tessera-proxy', image: 'tessera/proxy:0.1.0' }] } },
    },
    status: { replicas: 3, updatedReplicas: 3, readyReplicas: 2, availableReplicas: 2 },
  };
  assert.deepEqual(deploymentPrinter.row(deployment, NOW).cells, [
    'web',
    '2/3',
    3,
    2,
    '2d',
    'web,tessera-proxy',
    'nginx:1.27,tessera/proxy:0.1.0',
    'app=web,tier in (edge,front)',
  ]);
  // a fresh deployment: no status yet, replicas defaulted to 1
  assert.deepEqual(deploymentPrinter.row({ metadata: meta('new'), spec: { template: { spec: { containers: [] } } } }, NOW).cells.slice(1, 4), ['0/1', 0, 0]);
});

test('label selectors print like labels.Selector.String()', () => {
  assert.equal(labelSelectorString(undefined), '');
  assert.equal(labelSelectorString({}), '');
  assert.equal(
    labelSelectorString({
      matchLabels: { b: '2' },
      matchExpressions: [
        { key: 'c', operator: 'NotIn', values: ['z', 'y'] },
        { key: 'a', operator: 'Exists' },
        { key: 'd', operator: 'DoesNotExist' },
      ],
    }),
    'a,b=2,c notin (y,z),!d',
  );
  assert.equal(labelSelectorString({ matchExpressions: [{ key: 'a', operator: 'Matches', values: ['x'] }] }), '<invalid>');
  assert.equal(labelSelectorString({ matchExpressions: [{ key: 'a', operator: 'In', values: [] }] }), '<invalid>');
});

test('EndpointSlice: NAME ADDRESSTYPE PORTS ENDPOINTS AGE', () => {
  assert.deepEqual(header(endpointSlicePrinter), ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age']);
  const slice = {
    metadata: meta('httpbin-x7k2p', 45 * SEC),
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'grpc', port: 9090 }],
    endpoints: [
      { addresses: ['10.244.1.7'], conditions: { ready: true } },
      { addresses: ['10.244.2.8'], conditions: { ready: true } },
      { addresses: ['10.244.3.9'], conditions: { ready: false } },
      { addresses: ['10.244.4.1', '10.244.4.2'] },
    ],
  };
  assert.deepEqual(endpointSlicePrinter.row(slice, NOW).cells, ['httpbin-x7k2p', 'IPv4', '8080,9090', '10.244.1.7,10.244.2.8,10.244.3.9 + 2 more...', '45s']);
  const empty = { metadata: meta('none'), addressType: 'IPv6', ports: [{ name: 'all' }, {}], endpoints: [] };
  assert.deepEqual(endpointSlicePrinter.row(empty, NOW).cells.slice(1, 4), ['IPv6', 'all,*', '<unset>']);
});
