/**
 * Tessera's Kubernetes API measured against kube-apiserver (issue #21 part 3): the same kubectl
 * scenario (the newest kubectl on the machine) runs against the reference control plane (etcd +
 * kube-apiserver v1.37.2, no controller-manager or scheduler: nothing here needs GC or pods) and
 * against `tessera up`; the outputs are normalized (test/support/differential.ts) and compared.
 * Every difference left is documented in docs/kubernetes-api.md, "Measured against kube-apiserver
 * v1.37.2", and listed in KNOWN below; a listed difference that no longer shows fails the test.
 * DIFF_EXPLORE=1 logs every difference of the kubectl and raw steps instead of failing at the first.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { referenceBinaries, startReferenceCluster, type ReferenceCluster } from '../support/kube-reference.js';
import { kubeconfigPath, kubectlBinaries, startKubectlMesh, watchEvents } from '../support/kubectl.js';
import type { TestMesh } from '../support/mesh.js';
import { assertSame, Differential, dropPath, normalizeJson, side, type Known, type Outcome, type Pair, type RawOutcome } from '../support/differential.js';

const bins = referenceBinaries();
const newest = kubectlBinaries().at(-1);
const skip = 'skip' in bins ? bins.skip : !newest ? 'no kubectl on this machine (see test/support/kubectl.ts)' : false;

const NS = 'differential';

const OBJECTS = `apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
  labels: { app: web, tier: backend }
data: { color: blue, size: "3" }
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: other
  labels: { app: web, tier: frontend }
data: { x: "1" }
---
apiVersion: v1
kind: Secret
metadata:
  name: creds
  labels: { app: web }
type: Opaque
stringData: { password: s3cret }
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: 0
  selector: { matchLabels: { app: web } }
  template:
    metadata:
      labels: { app: web }
      # the local runtime runs no images: the command it runs instead (the reference ignores it)
      annotations: { local.tessera.dev/command: sleep 3600 }
    spec:
      containers:
      - name: app
        image: busybox:1.36
        command: [sleep, "3600"]
        ports: [{ containerPort: 8080, name: http }]
`;

/** OBJECTS with the settings ConfigMap changed (and nothing else) */
const CHANGED = OBJECTS.replace('data: { color: blue, size: "3" }', 'data: { color: green, size: "3" }');

const WIDGET_SCHEMA = `
        type: object
        description: A widget, for the differential test.
        properties:
          spec:
            type: object
            description: What the widget should be.
            required: [size]
            properties:
              size: { type: integer, minimum: 1, maximum: 10, description: How many parts the widget has. }
              color: { type: string, enum: [red, green, blue], default: red, description: The widget's colour. }
          status:
            type: object
            properties:
              ready: { type: boolean }`;

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget, listKind: WidgetList, shortNames: [wdg] }
  versions:
  - name: v1
    served: true
    storage: true
    subresources: { status: {} }
    additionalPrinterColumns:
    - { name: Size, type: integer, jsonPath: .spec.size }
    - { name: Color, type: string, jsonPath: .spec.color, priority: 1 }
    - { name: Ready, type: boolean, jsonPath: .status.ready }
    - { name: Age, type: date, jsonPath: .metadata.creationTimestamp }
    schema:
      openAPIV3Schema:${WIDGET_SCHEMA}
  - name: v1beta1
    served: true
    storage: false
    subresources: { status: {} }
    schema:
      openAPIV3Schema:${WIDGET_SCHEMA}
`;

const WIDGET = `apiVersion: example.com/v1
kind: Widget
metadata: { name: w1, labels: { app: web } }
spec: { size: 3 }
`;

// ---------------------------------------------------------------------------------------------
// Known differences: each is a line of docs/kubernetes-api.md, "Measured against kube-apiserver v1.37.2".

/** every object (at any depth) with `kind` in `kinds` */
function objectsOfKind(v: unknown, kinds: string[], found: Record<string, any>[] = []): Record<string, any>[] {
  if (Array.isArray(v)) for (const x of v) objectsOfKind(x, kinds, found);
  else if (v !== null && typeof v === 'object') {
    const o = v as Record<string, any>;
    if (typeof o.kind === 'string' && kinds.includes(o.kind) && o.metadata) found.push(o);
    for (const x of Object.values(o)) objectsOfKind(x, kinds, found);
  }
  return found;
}

/** the fields kube-apiserver defaults in a Deployment (apps/v1 SetDefaults_Deployment and the pod template's) */
const DEPLOYMENT_DEFAULTS = [
  'spec.progressDeadlineSeconds', 'spec.revisionHistoryLimit', 'spec.strategy',
  'spec.template.spec.dnsPolicy', 'spec.template.spec.restartPolicy', 'spec.template.spec.schedulerName',
  'spec.template.spec.securityContext', 'spec.template.spec.terminationGracePeriodSeconds',
  'spec.template.spec.containers.*.imagePullPolicy', 'spec.template.spec.containers.*.resources',
  'spec.template.spec.containers.*.terminationMessagePath', 'spec.template.spec.containers.*.terminationMessagePolicy',
  'spec.template.spec.containers.*.ports.*.protocol',
];

const KNOWN = {
  /** doc: "metadata.generation on every object" */
  generation: {
    id: 'generation',
    doc: 'Tessera stamps metadata.generation on every object; kube-apiserver leaves it off ConfigMaps and Secrets',
    apply: (p) => {
      const found = objectsOfKind(p.tessera.out, ['ConfigMap', 'Secret']).filter((o) => 'generation' in o.metadata);
      for (const o of found) delete o.metadata.generation;
      return found.length > 0;
    },
  },
  /** doc: "Deployment defaults" */
  deploymentDefaults: {
    id: 'deploymentDefaults',
    doc: 'kube-apiserver defaults Deployment and pod-template fields Tessera leaves unset',
    apply: (p) => {
      const ref = objectsOfKind(p.reference.out, ['Deployment']);
      const tes = objectsOfKind(p.tessera.out, ['Deployment']);
      let any = false;
      ref.forEach((d, i) => {
        for (const path of DEPLOYMENT_DEFAULTS) if (!dropPathIn(tes[i], path) && dropPath(d, path)) any = true;
      });
      return any;
    },
  },
  /** doc: "Deployment status" — the reference runs no controller-manager; Tessera's controllers always run */
  deploymentStatus: {
    id: 'deploymentStatus',
    doc: 'Tessera\'s deployment controller writes status; the reference (no kube-controller-manager) leaves status: {}',
    apply: (p) => {
      const ref = objectsOfKind(p.reference.out, ['Deployment']);
      const tes = objectsOfKind(p.tessera.out, ['Deployment']);
      let any = false;
      ref.forEach((d, i) => {
        if (JSON.stringify(d.status) === '{}' && tes[i]?.status?.observedGeneration !== undefined) {
          delete d.status;
          delete tes[i]!.status;
          any = true;
        }
      });
      return any;
    },
  },
  /** doc: "JSON patch that cannot be applied" — same 422 Invalid, Tessera says which operation failed */
  jsonPatchMessage: {
    id: 'jsonPatchMessage',
    doc: 'a JSON patch that cannot be applied: kube-apiserver says "the server rejected our request due to an error in our request", Tessera names the operation',
    apply: (p) => {
      const generic = 'The request is invalid: the server rejected our request due to an error in our request\n';
      if (p.reference.err !== generic || !/^The request is invalid: operation \d+: /.test(p.tessera.err)) return false;
      p.tessera.err = generic;
      return true;
    },
  },
  /** doc: "unknown fields of built-in kinds" */
  builtinUnknownFields: {
    id: 'builtinUnknownFields',
    doc: 'unknown fields of built-in kinds are kept, not refused by fieldValidation=Strict',
    apply: (p) => {
      if (!/strict decoding error: unknown field/.test(p.reference.err) || p.tessera.code !== 0) return false;
      p.tessera = p.reference;
      return true;
    },
  },
  /** doc: "label selector syntax errors" — same 400 and prefix, different parser wording */
  labelSelectorWording: {
    id: 'labelSelectorWording',
    doc: 'a label selector that does not parse: same 400 and "unable to parse requirement:", different detail',
    apply: (p) => {
      const re = /(unable to parse\s+requirement:)[\s\S]*$/;
      if (!re.test(p.reference.err) || !re.test(p.tessera.err) || p.reference.err === p.tessera.err) return false;
      p.reference.err = p.reference.err.replace(re, '$1 <detail>');
      p.tessera.err = p.tessera.err.replace(re, '$1 <detail>');
      return true;
    },
  },
  /** doc: "What is served" — a subset of kube-apiserver's kinds */
  servedSubset: {
    id: 'servedSubset',
    doc: 'Tessera serves a subset of the built-in kinds (apps/v1: deployments only)',
    apply: (p) => {
      const ours = String(p.tessera.out).split('\n').filter(Boolean);
      const theirs = String(p.reference.out).split('\n').filter(Boolean);
      if (ours.length >= theirs.length || !ours.every((l) => theirs.includes(l))) return false;
      p.reference.out = p.tessera.out;
      return true;
    },
  },
  /** doc: "/version" — Tessera reports the API level it implements, v1.33.0+tessera */
  serverVersion: {
    id: 'serverVersion',
    doc: 'the server version differs (normalized away); kubectl warns about the skew to v1.37 only against the reference',
    apply: (p) => {
      const before = p.reference.err;
      p.reference.err = before.replace(/^WARNING: version difference between client .*\n/m, '');
      return p.reference.err !== before && p.tessera.err === p.reference.err;
    },
  },
  /** doc: "local runtime" — Tessera runs only pod templates it has a local runtime for */
  localRuntimeImages: {
    id: 'localRuntimeImages',
    doc: 'a Deployment whose container image has no local runtime (and no local.tessera.dev/command) is refused in local mode',
    apply: (p) => {
      if (p.reference.code !== 0 || p.tessera.code === 0 || !/no\s+local\s+runtime\s+for\s+this\s+image/.test(p.tessera.err)) return false;
      p.tessera = p.reference;
      return true;
    },
  },
} satisfies Record<string, Known<Outcome>>;

/** The same differences, as raw requests show them. */
const KNOWN_RAW = {
  /** doc: "generation" */
  generation: {
    id: 'generation',
    doc: 'Tessera stamps metadata.generation on every object; kube-apiserver leaves it off ConfigMaps and Secrets',
    apply: (p) => {
      const body = p.tessera.body as { kind?: string; metadata?: { generation?: number } };
      if ((body.kind !== 'ConfigMap' && body.kind !== 'Secret') || body.metadata?.generation === undefined) return false;
      delete body.metadata.generation;
      return true;
    },
  },
  /** doc: "unknown fields of built-in kinds" */
  builtinUnknownFields: {
    id: 'builtinUnknownFields',
    doc: 'unknown fields of built-in kinds are kept, not refused by fieldValidation=Strict',
    apply: (p) => {
      const body = p.reference.body as { message?: string };
      if (p.reference.status !== 400 || !/strict decoding error/.test(body.message ?? '') || p.tessera.status !== 201) return false;
      p.tessera = p.reference;
      return true;
    },
  },
  /** doc: "JSON patch that cannot be applied" */
  jsonPatchMessage: {
    id: 'jsonPatchMessage',
    doc: 'a JSON patch that cannot be applied: same 422 Invalid with empty details, Tessera\'s message names the operation',
    apply: (p) => {
      const ref = p.reference.body as { message?: string };
      const tes = p.tessera.body as { message?: string };
      if (p.reference.status !== 422 || ref.message !== 'the server rejected our request due to an error in our request' || !/^operation \d+: /.test(tes.message ?? '')) return false;
      tes.message = ref.message;
      return true;
    },
  },
} satisfies Record<string, Known<RawOutcome>>;

/** dropPath on a copy: whether `path` exists in `v` */
function dropPathIn(v: unknown, path: string): boolean {
  return v !== undefined && dropPath(structuredClone(v), path);
}

// ---------------------------------------------------------------------------------------------

describe('differential: tessera up against kube-apiserver', { skip, timeout: 900_000 }, () => {
  let cluster: ReferenceCluster | undefined;
  let mesh: TestMesh | undefined;
  let homes = '';
  let d: Differential;
  const timings: string[] = [];

  before(async () => {
    const t0 = Date.now();
    homes = mkdtempSync(join(tmpdir(), 'tessera-differential-'));
    [cluster, mesh] = await Promise.all([startReferenceCluster(), startKubectlMesh()]);
    timings.push(`both servers up in ${Date.now() - t0} ms`);
    d = new Differential({
      reference: side('reference', cluster.kubeconfig, newest!, homes),
      tessera: side('tessera', kubeconfigPath(mesh), newest!, homes),
    });
  });

  after(async () => {
    await Promise.allSettled([cluster?.stop(), mesh?.stop()]);
    if (homes) rmSync(homes, { recursive: true, force: true });
    if (timings.length) console.log(timings.join('\n'));
  });

  const soft = (f: () => void): void => {
    if (process.env.DIFF_EXPLORE !== '1') return f();
    try {
      f();
    } catch (e) {
      console.log(`DIFF ${(e as Error).message.split('+ actual - expected')[0]}`);
    }
  };
  /** kubectl on both sides, compared after normalization */
  const same = async (args: string[], opts: { input?: string; format?: 'text' | 'json' | 'yaml'; generated?: string[] } = {}, known: Known<Outcome>[] = []): Promise<Pair<Outcome>> => {
    const r = await d.kubectl(args, opts);
    soft(() => assertSame(r, known, `kubectl ${args.join(' ')}`));
    return r;
  };
  const sameRaw = async (method: string, path: string, opts: Parameters<Differential['raw']>[2] = {}, known: Known<RawOutcome>[] = []): Promise<Pair<RawOutcome>> => {
    const r = await d.raw(method, path, opts);
    soft(() => assertSame(r, known, `${method} ${path}`));
    return r;
  };
  /** kubectl that must succeed on both sides (setup, not compared) */
  const both = async (args: string[], input?: string): Promise<void> => {
    const r = await d.each((s) => s.kubectl(args, input === undefined ? {} : { input }));
    for (const [name, x] of Object.entries(r)) assert.equal(x.code, 0, `${name}: kubectl ${args.join(' ')} exited ${x.code}: ${x.stderr}`);
  };

  it('create namespace', async () => {
    await same(['create', 'namespace', NS]);
  });

  it('apply: created, unchanged, configured', async () => {
    await same(['apply', '-n', NS, '-f', '-'], { input: OBJECTS });
    await same(['apply', '-n', NS, '-f', '-'], { input: OBJECTS });
    await same(['apply', '-n', NS, '-f', '-'], { input: CHANGED });
    await same(['get', 'cm', 'settings', '-n', NS, '-o', 'yaml'], { format: 'yaml' }, [KNOWN.generation]);
  });

  it('server-side dry-run: apply, create, delete change nothing', async () => {
    await same(['apply', '-n', NS, '--dry-run=server', '-f', '-'], { input: OBJECTS });
    await same(['create', 'configmap', 'dry', '-n', NS, '--from-literal=a=b', '--dry-run=server', '-o', 'json'], { format: 'json' });
    await same(['delete', 'configmap', 'settings', '-n', NS, '--dry-run=server']);
    await same(['get', 'cm', '-n', NS, '-o', 'jsonpath={range .items[*]}{.metadata.name}={.data}{"\\n"}{end}']);
  });

  it('patch: strategic, merge, json (and no change)', async () => {
    await same(['patch', 'cm', 'settings', '-n', NS, '-p', '{"data":{"extra":"1"}}']);
    await same(['patch', 'cm', 'settings', '-n', NS, '-p', '{"data":{"extra":"1"}}']);
    await same(['patch', 'cm', 'settings', '-n', NS, '--type', 'merge', '-p', '{"data":{"extra":null,"merged":"yes"}}']);
    await same(['patch', 'cm', 'settings', '-n', NS, '--type', 'json', '-p', '[{"op":"add","path":"/data/j","value":"v"},{"op":"remove","path":"/data/merged"}]']);
    await same(['patch', 'cm', 'settings', '-n', NS, '--type', 'json', '-p', '[{"op":"test","path":"/data/color","value":"red"}]'], {}, [KNOWN.jsonPatchMessage]);
    await same(['get', 'cm', 'settings', '-n', NS, '-o', 'json'], { format: 'json' }, [KNOWN.generation]);
    await same(['patch', 'deploy', 'web', '-n', NS, '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"app","image":"busybox:1.37"}]}}}}']);
  });

  it('get tables', async () => {
    await same(['get', 'cm', '-n', NS]);
    await same(['get', 'secret', '-n', NS]);
    await same(['get', 'deploy', '-n', NS]);
    await same(['get', 'deploy', '-n', NS, '-o', 'wide']);
    await same(['get', 'cm,secret', '-n', NS, '--show-labels']);
    await same(['get', 'cm', '-n', NS, '-o', 'name']);
  });

  it('get -o yaml|json|jsonpath', async () => {
    await same(['get', 'secret', 'creds', '-n', NS, '-o', 'yaml'], { format: 'yaml' }, [KNOWN.generation]);
    await same(['get', 'deploy', 'web', '-n', NS, '-o', 'json'], { format: 'json' }, [KNOWN.deploymentDefaults, KNOWN.deploymentStatus]);
    await same(['get', 'cm', '-n', NS, '-o', 'json'], { format: 'json' }, [KNOWN.generation]);
    await same(['get', 'deploy', 'web', '-n', NS, '-o', 'jsonpath={.spec.template.spec.containers[0].image} {.metadata.generation}']);
  });

  it('label and field selectors', async () => {
    await same(['get', 'cm', '-n', NS, '-l', 'tier=backend', '-o', 'name']);
    await same(['get', 'cm', '-n', NS, '-l', 'tier in (backend,frontend)', '-o', 'name']);
    await same(['get', 'cm,secret', '-n', NS, '-l', '!tier', '-o', 'name']);
    await same(['get', 'cm', '-n', NS, '-l', 'app=web,tier!=backend', '-o', 'name']);
    await same(['get', 'cm', '-n', NS, '--field-selector', 'metadata.name=other', '-o', 'name']);
    await same(['get', 'secret', '-n', NS, '--field-selector', 'type=Opaque', '-o', 'name']);
    await same(['get', 'cm', '-A', '--field-selector', `metadata.namespace=${NS},metadata.name!=other`, '-o', 'name']);
    await same(['get', 'cm', '-n', NS, '--field-selector', 'data.x=1']);
    await same(['get', 'cm', '-n', NS, '-l', 'tier in backend'], {}, [KNOWN.labelSelectorWording]);
    await same(['get', 'ns', '--field-selector', `metadata.namespace=${NS}`]);
    await same(['get', 'widgets', '-n', NS, '--field-selector', 'spec.size=3']);
  });

  it('watch from a resourceVersion (raw): the events after it, in order', async () => {
    const lists = await d.each(async (s) => (await s.api.request('GET', `/api/v1/namespaces/${NS}/configmaps`)).json as { metadata: { resourceVersion: string } });
    await both(['create', 'configmap', 'watched', '-n', NS, '--from-literal=k=1']);
    await both(['patch', 'configmap', 'watched', '-n', NS, '--type', 'merge', '-p', '{"data":{"k":"2"}}']);
    await both(['delete', 'configmap', 'watched', '-n', NS]);
    const events = await d.each(async (s) => {
      const rv = lists[s.name].metadata.resourceVersion;
      const r = await s.api.request('GET', `/api/v1/namespaces/${NS}/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=2`, { timeoutMs: 20_000 });
      return { status: r.status, events: watchEvents(r.text).map((e) => ({ type: e.type, name: e.object.metadata?.name, data: e.object.data })) };
    });
    assertSame(events, [], 'watch events after a resourceVersion');
    assert.deepEqual(events.reference.events.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED']);
    // 410 Gone for a compacted resourceVersion is not compared: kube-apiserver compacts etcd every
    // 5 minutes (--etcd-compaction-interval) and keeps a watch cache, so it cannot be forced here
    // in bounded time; test/e2e/kubectl.test.ts covers Tessera's 410.
  });

  it('409 Conflict on an update with a stale resourceVersion (raw PUT)', async () => {
    const path = `/api/v1/namespaces/${NS}/configmaps/other`;
    const stale = await d.each(async (s) => (await s.api.request('GET', path)).json);
    await both(['patch', 'cm', 'other', '-n', NS, '--type', 'merge', '-p', '{"data":{"x":"2"}}']);
    const r = await d.each(async (s) => {
      const body = structuredClone(stale[s.name]) as { data: Record<string, string> };
      body.data.x = '3';
      const res = await s.api.request('PUT', path, { body });
      return { status: res.status, body: normalizeJson(res.json) };
    });
    assertSame(r, [], 'PUT with a stale resourceVersion');
    assert.equal(r.reference.status, 409);
  });

  it('CRD create, established, served versions in discovery', async () => {
    await same(['apply', '-f', '-'], { input: CRD });
    await same(['wait', '--for=condition=Established', 'crd/widgets.example.com', '--timeout=30s'], { format: 'text' });
    await same(['get', '--raw', '/apis/example.com'], { format: 'json' });
    await same(['get', '--raw', '/apis/example.com/v1'], { format: 'json' });
    await same(['get', '--raw', '/apis/example.com/v1beta1'], { format: 'json' });
    await same(['api-resources', '--api-group=example.com', '-o', 'wide']);
    await same(['get', 'crd', 'widgets.example.com', '-o', 'jsonpath={.status.acceptedNames.kind} {.status.storedVersions}']);
  });

  it('a CRD whose storage version is not the newest: the preferred version is the newest served', async () => {
    const gadgets = CRD.replaceAll('example.com', 'example.org').replaceAll('widgets', 'gadgets').replaceAll('widget', 'gadget').replaceAll('Widget', 'Gadget').replace('shortNames: [wdg]', 'shortNames: [gdg]')
      .replace('storage: true', 'storage: STORAGE').replace('storage: false', 'storage: true').replace('storage: STORAGE', 'storage: false');
    await same(['apply', '-f', '-'], { input: gadgets });
    await same(['wait', '--for=condition=Established', 'crd/gadgets.example.org', '--timeout=30s']);
    await same(['get', 'crd', 'gadgets.example.org', '-o', 'jsonpath={.status.storedVersions}']);
    const group = await same(['get', '--raw', '/apis/example.org'], { format: 'json' });
    assert.deepEqual((group.reference.out as any).preferredVersion, { groupVersion: 'example.org/v1', version: 'v1' });
    await same(['apply', '-n', NS, '-f', '-'], { input: 'apiVersion: example.org/v1beta1\nkind: Gadget\nmetadata: { name: g1 }\nspec: { size: 2 }\n' });
    await same(['get', 'gadgets', '-n', NS, '-o', 'yaml'], { format: 'yaml' });
  });

  it('custom resources: apply, get table, -o yaml, served at both versions', async () => {
    await same(['apply', '-n', NS, '-f', '-'], { input: WIDGET });
    await same(['get', 'widgets', '-n', NS]);
    await same(['get', 'wdg', '-n', NS, '-o', 'wide']);
    await same(['get', 'widget', 'w1', '-n', NS, '-o', 'yaml'], { format: 'yaml' });
    await same(['get', 'widgets.v1beta1.example.com', 'w1', '-n', NS, '-o', 'json'], { format: 'json' });
  });

  it('status subresource: a main-resource PUT ignores status, a status PUT changes only status', async () => {
    const path = `/apis/example.com/v1/namespaces/${NS}/widgets/w1`;
    const put = async (sub: string, change: (o: any) => void): Promise<Pair<RawOutcome>> => {
      const cur = await d.each(async (s) => (await s.api.request('GET', path)).json);
      return d.each(async (s) => {
        const body = structuredClone(cur[s.name]) as any;
        change(body);
        const res = await s.api.request('PUT', path + sub, { body });
        return { status: res.status, body: normalizeJson(res.json) };
      });
    };
    const main = await put('', (o) => ((o.spec.size = 4), (o.status = { ready: true })));
    assertSame(main, [], 'PUT widget with a status');
    assert.deepEqual([(main.reference.body as any).spec.size, (main.reference.body as any).status], [4, undefined]);
    const status = await put('/status', (o) => ((o.spec.size = 9), (o.status = { ready: true })));
    assertSame(status, [], 'PUT widget/status with a spec change');
    assert.deepEqual([(status.reference.body as any).spec.size, (status.reference.body as any).status], [4, { ready: true }]);
    await same(['get', 'widget', 'w1', '-n', NS, '-o', 'yaml'], { format: 'yaml' });
    await same(['patch', 'widget', 'w1', '-n', NS, '--subresource=status', '--type', 'merge', '-p', '{"status":{"ready":false}}']);
    await same(['get', 'widgets', '-n', NS]);
  });

  it('finalizers: delete marks the object, removing the finalizer deletes it', async () => {
    await both(['apply', '-n', NS, '-f', '-'], 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: held, finalizers: [example.com/hold] }\ndata: { a: "1" }\n');
    await same(['delete', 'cm', 'held', '-n', NS, '--wait=false']);
    await same(['get', 'cm', 'held', '-n', NS, '-o', 'json'], { format: 'json' }, [KNOWN.generation]);
    await same(['patch', 'cm', 'held', '-n', NS, '--type', 'json', '-p', '[{"op":"remove","path":"/metadata/finalizers"}]']);
    await same(['get', 'cm', 'held', '-n', NS]);
  });

  it('errors and exit codes: NotFound, AlreadyExists, Invalid, unknown fields, 415', async () => {
    await same(['get', 'cm', 'nope', '-n', NS]);
    await same(['delete', 'widget', 'nope', '-n', NS]);
    await same(['create', 'configmap', 'settings', '-n', NS]);
    await same(['apply', '-n', NS, '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: bad }\nspec: { size: 20, color: purple }\n' });
    await same(['apply', '-n', NS, '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: nosize }\nspec: { color: red }\n' });
    await same(['apply', '-n', NS, '-f', '-'], { input: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: { name: shaped }\nspec: { size: 2, shape: round }\n' });
    // (dry runs: Tessera would store these, and later comparisons would see them)
    await same(['apply', '-n', NS, '--dry-run=server', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: odd }\ndata: { a: "1" }\nspec: { b: 2 }\n' }, [KNOWN.builtinUnknownFields]);
    await same(['create', '-n', NS, '--dry-run=server', '-f', '-'], { input: 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: odd2, bogus: 1 }\ndata: { a: "1" }\n' }, [KNOWN.builtinUnknownFields]);
    await same(['patch', 'widget', 'w1', '-n', NS, '-p', '{"spec":{"size":5}}']);
    await same(['apply', '-n', NS, '--dry-run=server', '-f', '-'], { input: OBJECTS.slice(OBJECTS.indexOf('apiVersion: apps/v1')).replace(/ {6}annotations: .*\n/, '').replace('name: web', 'name: imaged') }, [KNOWN.localRuntimeImages]);
    await same(['get', 'nosuchkind']);
    await sameRaw('POST', `/api/v1/namespaces/${NS}/configmaps?fieldValidation=Strict&dryRun=All`, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'strict' }, data: { a: '1' }, extra: true } }, [KNOWN_RAW.builtinUnknownFields]);
    await sameRaw('PUT', `/apis/example.com/v1/namespaces/${NS}/widgets/w1?fieldValidation=Strict&dryRun=All`, { body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w1' }, spec: { size: 2, shape: 'round' } } });
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/settings`, { contentType: 'application/json-patch+json', body: [{ op: 'remove', path: '/data/nope' }] }, [KNOWN_RAW.jsonPatchMessage]);
    await sameRaw('POST', `/apis/example.com/v1/namespaces/${NS}/widgets`, { body: { apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'raw-bad' }, spec: { size: 0 } } });
  });

  it('server-side apply: managedFields, removal, conflicts, --force-conflicts, Update managers', async () => {
    const cm = (name: string, data: Record<string, string>): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: ${name}, namespace: ${NS}, labels: { app: demo } }\ndata: ${JSON.stringify(data)}\n`;
    // the object as kubectl prints it, then its managedFields (which the normalization drops), times aside
    const get = async (name: string): Promise<void> => {
      await same(['get', 'cm', name, '-n', NS, '-o', 'json'], { format: 'json' }, [KNOWN.generation]);
      const managed = await d.each(async (s) => {
        const entries = (await s.api.request('GET', `/api/v1/namespaces/${NS}/configmaps/${name}`)).json.metadata.managedFields as { time?: string; manager: string; operation: string }[];
        // sorted by name: kube-apiserver orders entries by time in seconds, which the two servers need not share
        return entries.map(({ time, ...e }) => ({ ...e, time: time ? '<ts>' : undefined })).sort((a, b) => `${a.manager}/${a.operation}`.localeCompare(`${b.manager}/${b.operation}`));
      });
      soft(() => assertSame(managed, [], `managedFields of ${name}`));
    };
    await same(['apply', '--server-side', '-f', '-'], { input: cm('ssa', { a: '1', b: '2' }) });
    await get('ssa');
    await same(['apply', '--server-side', '--field-manager=other', '-f', '-'], { input: cm('ssa', { a: '9', b: '8' }) });
    await same(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { input: cm('ssa', { a: '9' }) });
    await same(['label', 'cm', 'ssa', '-n', NS, 'extra=yes']);
    await get('ssa');
    await same(['apply', '--server-side', '-f', '-'], { input: cm('ssa', {}) });
    await get('ssa');
    await same(['create', 'cm', 'ssa-plain', '-n', NS, '--from-literal=x=1']);
    await get('ssa-plain');
    await same(['apply', '--server-side', '-f', '-'], { input: cm('ssa-plain', { x: '2' }) });
    // client-side apply, then server-side: kubectl moves the client-side manager's fields to its own
    // (a JSON patch of managedFields) before it applies, so a changed value is no conflict
    await same(['apply', '-f', '-'], { input: cm('ssa-csa', { a: '1' }) });
    await get('ssa-csa');
    await same(['apply', '--server-side', '-f', '-'], { input: cm('ssa-csa', { a: '2' }) });
    await get('ssa-csa');
    await same(['apply', '--server-side', '--dry-run=server', '-f', '-', '-o', 'json'], { input: cm('ssa-dry', { y: '1' }), format: 'json' });
    const body = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ssa-raw' }, data: { x: '1' } };
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa-raw`, { contentType: 'application/apply-patch+yaml', body });
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa-mf?fieldManager=raw`, { contentType: 'application/apply-patch+yaml', body: { ...body, metadata: { name: 'ssa-mf', managedFields: [{ manager: 'x', operation: 'Apply' }] } } });
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa-raw?fieldManager=raw`, { contentType: 'application/apply-patch+yaml', body }, [KNOWN_RAW.generation]);
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa-raw?fieldManager=raw2`, { contentType: 'application/apply-patch+yaml', body: { ...body, data: { x: '2' } } });
    await sameRaw('PATCH', `/api/v1/namespaces/${NS}/configmaps/ssa-raw?force=true`, { contentType: 'application/merge-patch+json', body: { data: { x: '3' } } });
    // a custom resource: fieldValidation as on other writes, status through /status only
    const widget = (spec: Record<string, unknown>, name = 'ssa-w') => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name }, spec });
    const widgets = `/apis/example.com/v1/namespaces/${NS}/widgets`;
    await sameRaw('PATCH', `${widgets}/ssa-w?fieldManager=raw&fieldValidation=Strict`, { contentType: 'application/apply-patch+yaml', body: widget({ size: 2, shape: 'round' }) });
    await sameRaw('PATCH', `${widgets}/ssa-w2?fieldManager=raw`, { contentType: 'application/apply-patch+yaml', body: widget({ size: 2, shape: 'round' }, 'ssa-w2') });
    await sameRaw('PATCH', `${widgets}/ssa-w?fieldManager=raw`, { contentType: 'application/apply-patch+yaml', body: widget({ size: 2 }) });
    await sameRaw('PATCH', `${widgets}/ssa-w/status?fieldManager=ctl`, { contentType: 'application/apply-patch+yaml', body: { ...widget({ size: 9 }), status: { ready: true } } });
    const widgetFields = await d.each(async (s) => {
      const o = (await s.api.request('GET', `${widgets}/ssa-w`)).json;
      return { spec: o.spec, status: o.status, managed: (o.metadata.managedFields as { time?: string; manager: string }[]).map(({ time, ...e }) => e).sort((a, b) => a.manager.localeCompare(b.manager)) };
    });
    soft(() => assertSame(widgetFields, [], 'a Widget applied, then its status: spec, status and managedFields'));
    // a Service: ports keyed by port and protocol, the selector atomic
    const svc = (ports: number[]): string => `apiVersion: v1\nkind: Service\nmetadata: { name: ssa-web, namespace: ${NS} }\nspec:\n  selector: { app: web }\n  ports:\n${ports.map((p) => `  - { name: p${p}, port: ${p}, targetPort: ${p} }`).join('\n')}\n`;
    await same(['apply', '--server-side', '-f', '-'], { input: svc([80, 443]) });
    await same(['apply', '--server-side', '-f', '-'], { input: svc([443]) });
    const svcFields = await d.each(async (s) => {
      const o = (await s.api.request('GET', `/api/v1/namespaces/${NS}/services/ssa-web`)).json;
      return { ports: o.spec.ports, applied: (o.metadata.managedFields as { manager: string; fieldsV1: unknown }[]).find((e) => e.manager === 'kubectl')?.fieldsV1 };
    });
    soft(() => assertSame(svcFields, [], 'a Service applied twice: its ports and the fields kubectl owns'));
  });

  it('discovery: api-resources rows for core, apps and the CRD', async () => {
    const rows = await d.kubectl(['api-resources']);
    // the rows of a few resources, cut into cells at the header's column starts (the widths depend
    // on every row, and the two servers serve different sets of resources)
    const pick = (o: Outcome): string[][] => {
      const [head, ...lines] = String(o.out).split('\n');
      const starts = [...head!.matchAll(/\S+/g)].map((m) => m.index);
      const cells = (l: string): string[] => starts.map((st, i) => l.slice(st, starts[i + 1]).trim());
      return [cells(head!), ...lines.filter((l) => /^(configmaps|secrets|namespaces|deployments|widgets|customresourcedefinitions)\s/.test(l)).map(cells)];
    };
    assertSame({ reference: pick(rows.reference), tessera: pick(rows.tessera) }, [], 'api-resources rows');
    assert.equal(pick(rows.tessera).length, 7, 'six resources picked');
    await same(['api-resources', '--api-group=apps', '--namespaced=true', '-o', 'name'], {}, [KNOWN.servedSubset]);
    await same(['version'], {}, [KNOWN.serverVersion]);
  });

  it('explain of the CRD\'s fields', async () => {
    await same(['explain', 'widgets.spec']);
    await same(['explain', 'widget.spec.size', '--api-version=example.com/v1']);
  });
});
