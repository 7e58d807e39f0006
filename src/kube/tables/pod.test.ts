/** The Pod table: READY, STATUS reasons, RESTARTS with "(… ago)", wide cells, row conditions. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podPrinter, printPod } from './index.js';
import { DAY, HOUR, MIN, NOW, SEC, ago } from './testing.js';

const meta = (name: string, extra: object = {}) => ({ name, namespace: 'default', creationTimestamp: ago(2 * DAY + 3 * HOUR), ...extra });
const running = (name: string, restartCount = 0, extra: object = {}) => ({
  name,
  ready: true,
  started: true,
  restartCount,
  image: 'nginx',
  state: { running: { startedAt: ago(HOUR) } },
  ...extra,
});

const webPod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: meta('web-7d8f9c6b5d-x2x7q'),
  spec: { nodeName: 'node-1', containers: [{ name: 'web' }, { name: 'tessera-proxy' }] },
  status: {
    phase: 'Running',
    podIP: '10.244.1.7',
    podIPs: [{ ip: '10.244.1.7' }, { ip: 'fd00::7' }],
    conditions: [{ type: 'Ready', status: 'True' }],
    containerStatuses: [
      running('web', 1, { lastState: { terminated: { exitCode: 137, reason: 'OOMKilled', finishedAt: ago(5 * MIN) } } }),
      running('tessera-proxy'),
    ],
  },
};

test('columns: NAME READY STATUS RESTARTS AGE, then the priority-1 wide ones', () => {
  assert.deepEqual(
    podPrinter.columns.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Ready', 'string', '', 0],
      ['Status', 'string', '', 0],
      ['Restarts', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['IP', 'string', '', 1],
      ['Node', 'string', '', 1],
      ['Nominated Node', 'string', '', 1],
      ['Readiness Gates', 'string', '', 1],
    ],
  );
});

test('a running pod with 2/2 ready containers and one restart 5m ago', () => {
  const row = printPod(webPod, NOW);
  assert.deepEqual(row.cells, ['web-7d8f9c6b5d-x2x7q', '2/2', 'Running', '1 (5m ago)', '2d3h', '10.244.1.7', 'node-1', '<none>', '<none>']);
  assert.equal(row.conditions, undefined);
});

test('a pending, unscheduled pod', () => {
  const pod = {
    metadata: meta('pending', { creationTimestamp: ago(12 * SEC) }),
    spec: { containers: [{ name: 'app' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' }] },
  };
  assert.deepEqual(printPod(pod, NOW).cells, ['pending', '0/1', 'Pending', '0', '12s', '<none>', '<none>', '<none>', '<none>']);
});

test('a scheduling-gated pod says SchedulingGated', () => {
  const pod = {
    metadata: meta('gated'),
    spec: { containers: [{ name: 'app' }], schedulingGates: [{ name: 'example.com/wait' }] },
    status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'SchedulingGated' }] },
  };
  assert.equal(printPod(pod, NOW).cells[2], 'SchedulingGated');
});

test('waiting reasons: ContainerCreating, CrashLoopBackOff (the first container wins)', () => {
  const creating = {
    metadata: meta('creating'),
    spec: { nodeName: 'node-1', containers: [{ name: 'app' }] },
    status: { phase: 'Pending', containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } }] },
  };
  assert.equal(printPod(creating, NOW).cells[2], 'ContainerCreating');

  const crashing = {
    metadata: meta('crashing'),
    spec: { containers: [{ name: 'app' }, { name: 'sidecar' }] },
    status: {
      phase: 'Running',
      containerStatuses: [
        {
          name: 'app',
          ready: false,
          restartCount: 5,
          state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2m40s' } },
          lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: ago(40 * SEC) } },
        },
        { name: 'sidecar', ready: false, restartCount: 2, state: { waiting: { reason: 'ImagePullBackOff' } } },
      ],
    },
  };
  assert.deepEqual(printPod(crashing, NOW).cells.slice(1, 4), ['0/2', 'CrashLoopBackOff', '7 (40s ago)']);
});

test('a terminating pod', () => {
  const pod = { ...webPod, metadata: meta('web-old', { deletionTimestamp: ago(10 * SEC), deletionGracePeriodSeconds: 30 }) };
  assert.deepEqual(printPod(pod, NOW).cells.slice(0, 4), ['web-old', '2/2', 'Terminating', '1 (5m ago)']);
});

test('a deleted pod on a lost node is Unknown; a finished one keeps its reason', () => {
  const lost = { ...webPod, metadata: meta('lost', { deletionTimestamp: ago(MIN) }), status: { ...webPod.status, reason: 'NodeLost' } };
  assert.equal(printPod(lost, NOW).cells[2], 'Unknown');
  const done = {
    metadata: meta('job-x', { deletionTimestamp: ago(MIN) }),
    spec: { containers: [{ name: 'job' }] },
    status: { phase: 'Succeeded', containerStatuses: [{ name: 'job', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
  };
  assert.equal(printPod(done, NOW).cells[2], 'Completed');
});

test('a succeeded pod is Completed and carries the Completed row condition', () => {
  const pod = {
    metadata: meta('job-1-abcde'),
    spec: { containers: [{ name: 'job' }] },
    status: { phase: 'Succeeded', containerStatuses: [{ name: 'job', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }] },
  };
  const row = printPod(pod, NOW);
  assert.deepEqual(row.cells.slice(1, 4), ['0/1', 'Completed', '0']);
  assert.deepEqual(row.conditions, [{ type: 'Completed', status: 'True', reason: 'Succeeded', message: 'The pod has completed successfully.' }]);
});

test('a failed pod: ExitCode and Signal when the container gives no reason', () => {
  const pod = (terminated: object) => ({
    metadata: meta('failed'),
    spec: { containers: [{ name: 'job' }] },
    status: { phase: 'Failed', containerStatuses: [{ name: 'job', ready: false, restartCount: 0, state: { terminated } }] },
  });
  assert.equal(printPod(pod({ exitCode: 3 }), NOW).cells[2], 'ExitCode:3');
  assert.equal(printPod(pod({ exitCode: 137, signal: 9 }), NOW).cells[2], 'Signal:9');
  assert.deepEqual(printPod(pod({ exitCode: 3 }), NOW).conditions, [{ type: 'Completed', status: 'True', reason: 'Failed', message: 'The pod failed.' }]);
});

test('Completed with a container still running is Running when Ready, else NotReady', () => {
  const pod = (ready: boolean) => ({
    metadata: meta('mixed'),
    spec: { containers: [{ name: 'app' }, { name: 'init-like' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [running('app'), { name: 'init-like', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } }],
    },
  });
  assert.deepEqual(printPod(pod(true), NOW).cells.slice(1, 3), ['1/2', 'Running']);
  assert.deepEqual(printPod(pod(false), NOW).cells.slice(1, 3), ['1/2', 'NotReady']);
});

test('init containers: Init:x/y, Init:<reason>, Init:ExitCode, and their restarts', () => {
  const pod = (initContainerStatuses: object[]) => ({
    metadata: meta('initing'),
    spec: { initContainers: [{ name: 'migrate' }, { name: 'seed' }], containers: [{ name: 'app' }] },
    status: {
      phase: 'Pending',
      initContainerStatuses,
      containerStatuses: [{ name: 'app', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    },
  });
  const done = { name: 'migrate', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } };
  assert.equal(printPod(pod([{ name: 'migrate', ready: false, restartCount: 0, state: { running: {} } }]), NOW).cells[2], 'Init:0/2');
  assert.equal(printPod(pod([done, { name: 'seed', ready: false, restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }]), NOW).cells[2], 'Init:1/2');
  const crashing = {
    name: 'seed',
    ready: false,
    restartCount: 3,
    state: { waiting: { reason: 'CrashLoopBackOff' } },
    lastState: { terminated: { exitCode: 1, finishedAt: ago(20 * SEC) } },
  };
  assert.deepEqual(printPod(pod([done, crashing]), NOW).cells.slice(1, 4), ['0/1', 'Init:CrashLoopBackOff', '3 (20s ago)']);
  assert.equal(printPod(pod([{ name: 'migrate', ready: false, restartCount: 0, state: { terminated: { exitCode: 2 } } }]), NOW).cells[2], 'Init:ExitCode:2');
  assert.equal(printPod(pod([{ name: 'migrate', ready: false, restartCount: 0, state: { terminated: { exitCode: 1, reason: 'Error' } } }]), NOW).cells[2], 'Init:Error');
});

test('a native sidecar (restartable init container) counts toward READY and keeps its restarts', () => {
  const pod = {
    metadata: meta('with-sidecar'),
    spec: { initContainers: [{ name: 'tessera-proxy', restartPolicy: 'Always' }], containers: [{ name: 'app' }] },
    status: {
      phase: 'Running',
      conditions: [{ type: 'Initialized', status: 'True' }, { type: 'Ready', status: 'True' }],
      initContainerStatuses: [
        running('tessera-proxy', 2, { lastState: { terminated: { exitCode: 1, finishedAt: ago(3 * HOUR) } } }),
      ],
      containerStatuses: [running('app')],
    },
  };
  assert.deepEqual(printPod(pod, NOW).cells.slice(1, 4), ['2/2', 'Running', '2 (3h ago)']);
});

test('restarts without a recorded termination time have no suffix', () => {
  const pod = { ...webPod, status: { ...webPod.status, containerStatuses: [running('web', 4), running('tessera-proxy')] } };
  assert.equal(printPod(pod, NOW).cells[3], '4');
});

test('wide cells: podIPs when podIP is unset, nominated node, readiness gates', () => {
  const pod = {
    metadata: meta('gated-ready'),
    spec: {
      nodeName: 'node-2',
      containers: [{ name: 'app' }],
      readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }],
    },
    status: {
      phase: 'Running',
      podIPs: [{ ip: 'fd00::9' }],
      nominatedNodeName: 'node-3',
      conditions: [
        { type: 'example.com/lb', status: 'True' },
        { type: 'example.com/dns', status: 'False' },
      ],
      containerStatuses: [running('app')],
    },
  };
  assert.deepEqual(printPod(pod, NOW).cells.slice(5), ['fd00::9', 'node-2', 'node-3', '1/2']);
});
