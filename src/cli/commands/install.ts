/**
 * `tessera install` / `tessera uninstall`: the mesh on the cluster of the current kubeconfig (as
 * `fsm install` / `fsm uninstall mesh`). The manifests come from src/install (the Helm chart in
 * charts/tessera renders the same); what needs I/O — the mesh CA, the injector's and the controller's
 * serving certificates, the mesh key — is generated here. An install over an existing one keeps its CA
 * and keys.
 */
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import type { Resource, Secret } from '../../api/types.js';
import { caFromSecret } from '../../identity/ca-secret.js';
import { createRootCa, type CertificateAuthority } from '../../identity/certificate-authority.js';
import { generateKeyPair, exportPrivateKeyPem } from '../../identity/keys.js';
import { toBase64 } from '../../identity/pem.js';
import { signLeaf } from '../../identity/sign-certificate.js';
import { subtle, x509 } from '../../identity/x509-runtime.js';
import {
  controllerServingNames, defaultValues, injectorServingNames, meshKeySecretName, renderInstall, resolveValues, setValue, toYamlDocuments,
  type InstallSecrets, type InstallValues, type Manifest, type Resolved,
} from '../../install/index.js';
import { MeshError } from '../../lib/errors.js';
import { CA_ROOT_MANAGED_BY_LABEL, caRootConfigMapName, caRootManagedBy } from '../../sidecar/config/cluster-bootstrap.js';
import type { ManifestDocument } from '../../local/api-contract.js';
import type { KubeMeshApi } from '../../local/client/kube-mesh-api.js';
import { defaultKubeconfigPath, fromKubeconfig } from '../../local/client/kubeconfig.js';
import type { CliDeps } from '../deps.js';
import { parseDuration } from '../duration.js';

export interface InstallOptions {
  set: string[];
  meshName?: string;
  dryRun?: boolean;
  timeoutMs: number;
  kubeconfig?: string;
  /**
   * Extra names (IP addresses or DNS names) for the controller's serving certificate
   * (`<mesh>-controller-tls`), for a controller reached elsewhere than at its Service — e.g. run as
   * a process on the host, beside `tessera node`, at https://127.0.0.1:PORT. Appended to the value
   * fsm.fsmController.extraAddresses (what the chart takes).
   */
  controllerAddresses?: string[];
  /** wait (within the timeout) for the component Deployments to be available, their pods Ready */
  wait?: boolean;
}

export interface UninstallOptions {
  set: string[];
  meshName?: string;
  keepCrds?: boolean;
  timeoutMs: number;
  kubeconfig?: string;
}

const POLL_MS = 250;
const SERVING_CERT_TTL_MS = 365 * 24 * 3600_000;

function valuesOf(opts: { set: string[]; meshName?: string; controllerAddresses?: string[] }): InstallValues {
  let values = defaultValues();
  if (opts.meshName !== undefined) values = setValue(values, `fsm.meshName=${opts.meshName}`);
  for (const s of opts.set) values = setValue(values, s);
  const extra = (opts.controllerAddresses ?? []).map((a) => a.trim()).filter((a) => a !== '');
  if (extra.length > 0) values.fsm.fsmController.extraAddresses = [...values.fsm.fsmController.extraAddresses, ...extra];
  return values;
}

/** A serving certificate (and its new key) issued by `ca` for `names`, base64 as it goes into a Secret. */
async function issueServing(ca: CertificateAuthority, names: { dns: string[]; ips: string[] }): Promise<{ cert: string; key: string }> {
  const keys = await generateKeyPair('ECDSA-P256');
  const serving = await signLeaf(ca, {
    commonName: names.dns[2]!,
    sans: [...names.dns.map((value) => ({ type: 'dns' as const, value })), ...names.ips.map((value) => ({ type: 'ip' as const, value }))],
    extendedKeyUsages: [x509.ExtendedKeyUsage.serverAuth],
    publicKey: new x509.PublicKey(await subtle.exportKey('spki', keys.publicKey)),
    ttlMs: SERVING_CERT_TTL_MS,
    now: new Date(),
  });
  return { cert: toBase64(serving.certificatePem), key: toBase64(await exportPrivateKeyPem(keys.privateKey)) };
}

/** The CA (new, or the one an earlier install stored) and everything issued from it. */
export async function generateSecrets(r: Resolved, existing?: { ca?: CertificateAuthority; caSecret?: Secret; keys?: Secret }): Promise<InstallSecrets> {
  const ca = existing?.ca ?? (await createRootCa({ meshName: r.mesh }));
  // The API server calls `<svc>.<ns>.svc`, or the webhook URL's host when one is set.
  const injector = await issueServing(ca, injectorServingNames(r));
  // Sidecars call `<mesh>-controller.<ns>.svc` and verify it with the mesh CA (TESSERA_CONTROLLER_CA_FILE),
  // or an extra address (fsm.fsmController.extraAddresses) for a controller outside its Service.
  const controller = await issueServing(ca, controllerServingNames(r, r.controllerExtraAddresses));
  const kept = existing?.keys?.data ?? {};
  return {
    caCert: existing?.caSecret?.data?.['ca.crt'] ?? toBase64(ca.certificatePem),
    caKey: existing?.caSecret?.data?.['private.key'] ?? toBase64(ca.privateKeyPem.reveal()),
    caExpiration: existing?.caSecret?.data?.expiration ?? toBase64(ca.certificate.notAfter.toISOString()),
    injectorCert: injector.cert,
    injectorKey: injector.key,
    controllerCert: controller.cert,
    controllerKey: controller.key,
    meshKey: kept['mesh-key'] ?? toBase64(randomBytes(32).toString('hex')),
    webhookToken: kept['webhook-token'] ?? toBase64(randomBytes(32).toString('hex')),
  };
}

async function getOrUndefined(api: KubeMeshApi, kind: string, name: string, namespace?: string): Promise<Resource | undefined> {
  try {
    return await api.get(kind, name, namespace);
  } catch (e) {
    if (e instanceof MeshError && (e.code === 'MESH_ERR_NOT_FOUND' || e.code === 'MESH_ERR_KIND_UNKNOWN')) return undefined;
    throw e;
  }
}

const docsOf = (list: Manifest[]): ManifestDocument[] =>
  list.map((object, i) => ({ source: 'tessera install', index: i + 1, line: 1, object: object as unknown as Record<string, unknown> }));

async function until(what: string, deadline: number, check: () => Promise<boolean>): Promise<void> {
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new MeshError('MESH_ERR_TIMEOUT', `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/** Every wanted replica of the current generation updated and available, as `kubectl rollout status` judges it. */
function deploymentAvailable(d: Resource | undefined): boolean {
  if (!d) return false;
  const spec = d.spec as { replicas?: number } | undefined;
  const status = (d.status ?? {}) as { observedGeneration?: number; updatedReplicas?: number; availableReplicas?: number; replicas?: number };
  const wanted = spec?.replicas ?? 1;
  return (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0)
    && (status.updatedReplicas ?? 0) >= wanted && (status.availableReplicas ?? 0) >= wanted && (status.replicas ?? 0) <= wanted;
}

function established(crd: Resource | undefined): boolean {
  const conditions = (crd?.status as { conditions?: { type?: string; status?: string }[] } | undefined)?.conditions ?? [];
  return conditions.some((c) => c.type === 'Established' && c.status === 'True');
}

export async function runInstall(opts: InstallOptions, deps: CliDeps): Promise<void> {
  const values = valuesOf(opts);
  const r = resolveValues(values);
  if (opts.dryRun) {
    // what the Helm chart renders, <mesh>-controller-tls included (test/e2e/install.test.ts compares them)
    deps.stdout.write(toYamlDocuments(renderInstall(values, await generateSecrets(r))));
    return;
  }
  const path = opts.kubeconfig ?? defaultKubeconfigPath(deps.env);
  const api = fromKubeconfig(path);
  const deadline = Date.now() + opts.timeoutMs;
  // An earlier install's CA and keys are kept: sidecars and the webhook keep trusting them.
  const caSecret = (await getOrUndefined(api, 'Secret', r.caBundleSecretName, r.namespace)) as Secret | undefined;
  const keys = (await getOrUndefined(api, 'Secret', meshKeySecretName(r.mesh), r.namespace)) as Secret | undefined;
  const ca = caSecret ? await caFromSecret(caSecret) : await createRootCa({ meshName: r.mesh });
  const manifests = renderInstall(values, await generateSecrets(r, { ca, ...(caSecret ? { caSecret } : {}), ...(keys ? { keys } : {}) }));
  const crds = manifests.filter((m) => m.kind === 'CustomResourceDefinition');
  const rest = manifests.filter((m) => m.kind !== 'CustomResourceDefinition');

  const report = (results: { kind: string; name: string; namespace?: string; action: string }[]): void => {
    for (const x of results) deps.stdout.write(`${x.kind.toLowerCase()}/${x.name}${x.namespace ? ` (${x.namespace})` : ''} ${x.action}\n`);
  };
  report(await api.apply(docsOf(crds), {}));
  await until(`the CustomResourceDefinitions to be Established (--timeout ${Math.round(opts.timeoutMs / 1000)}s)`, deadline, async () => {
    for (const crd of crds) if (!established(await getOrUndefined(api, 'CustomResourceDefinition', crd.metadata.name))) return false;
    return true;
  });
  // Discovery lists a new group a moment after its CRD is Established.
  await until('discovery to serve the mesh kinds', deadline, async () => {
    try {
      for (const crd of crds) {
        const spec = crd.spec as { group: string; names: { kind: string }; versions: { name: string; storage: boolean }[] };
        await api.mapper.forObject(`${spec.group}/${spec.versions.find((v) => v.storage)!.name}`, spec.names.kind);
      }
      return true;
    } catch {
      return false;
    }
  });
  deps.stdout.write(`${crds.length} CustomResourceDefinitions established\n`);
  report(await api.apply(docsOf(rest), {}));
  const deployments = rest.filter((m) => m.kind === 'Deployment').map((m) => m.metadata.name);
  if (opts.wait) {
    await until(`the Deployments ${deployments.join(', ')} to be available (--timeout ${Math.round(opts.timeoutMs / 1000)}s)`, deadline, async () => {
      for (const name of deployments) if (!deploymentAvailable(await getOrUndefined(api, 'Deployment', name, r.namespace))) return false;
      return true;
    });
    deps.stdout.write(`mesh "${r.mesh}" installed in namespace ${r.namespace} (context ${path}); Deployments ${deployments.join(', ')} available\n`);
    return;
  }
  deps.stdout.write(
    `mesh "${r.mesh}" installed in namespace ${r.namespace} (context ${path}).\n` +
      `Not waited for: the Deployments ${deployments.join(', ')} become available only once a node runs their pods ` +
      `(images ${r.registry}/tessera-{controller,injector,bootstrap}:${r.tag}); check with \`kubectl -n ${r.namespace} get deploy\`, or install with --wait.\n`,
  );
}

export async function runUninstall(opts: UninstallOptions, deps: CliDeps): Promise<void> {
  const values = valuesOf(opts);
  const r = resolveValues(values);
  const api = fromKubeconfig(opts.kubeconfig ?? defaultKubeconfigPath(deps.env));
  const deadline = Date.now() + opts.timeoutMs;
  const manifests = renderInstall(values);
  const del = async (m: Manifest): Promise<void> => {
    const res = await api.delete(m.kind, m.metadata.name, m.metadata.namespace, { ignoreNotFound: true });
    deps.stdout.write(`${m.kind.toLowerCase()}/${m.metadata.name} ${res.action === 'deleted' ? 'deleted' : 'not found'}\n`);
  };
  // The webhook first: with failurePolicy Fail it would refuse pods once the injector is gone.
  for (const m of manifests.filter((x) => x.kind === 'MutatingWebhookConfiguration')) await del(m);
  // The namespace takes everything in it (Deployments, Services, Secrets, Roles, the MeshConfig).
  for (const m of manifests.filter((x) => x.kind === 'Namespace')) await del(m);
  for (const m of manifests.filter((x) => x.kind === 'ClusterRoleBinding' || x.kind === 'ClusterRole')) await del(m);
  // The controller's Secret policy, binding first (cluster-scoped; the controller is gone with its namespace and role).
  for (const kind of ['ValidatingAdmissionPolicyBinding', 'ValidatingAdmissionPolicy']) for (const m of manifests.filter((x) => x.kind === kind)) await del(m);
  await until(`namespace ${r.namespace} to be deleted (its finalizers need the namespace controller)`, deadline, async () => !(await getOrUndefined(api, 'Namespace', r.namespace)));
  // The CA ConfigMaps the controller kept in the mesh's namespaces (now that it cannot write them again);
  // a ConfigMap of that name without the controller's label is someone else's and stays.
  const caRoots = await api.list({ kind: 'ConfigMap', allNamespaces: true, name: caRootConfigMapName(r.mesh), labelSelector: `${CA_ROOT_MANAGED_BY_LABEL}=${caRootManagedBy(r.mesh)}` });
  for (const cm of caRoots) {
    const res = await api.delete('ConfigMap', cm.metadata.name, cm.metadata.namespace, { ignoreNotFound: true });
    deps.stdout.write(`configmap/${cm.metadata.name} -n ${cm.metadata.namespace ?? ''} ${res.action === 'deleted' ? 'deleted' : 'not found'}\n`);
  }
  if (opts.keepCrds) {
    deps.stdout.write('CustomResourceDefinitions kept (--keep-crds): the mesh resources of every namespace stay in place\n');
    return;
  }
  // The CRDs are shared by every mesh of the cluster: keep them while another mesh is installed.
  const others = await listOtherMeshes(api, r.mesh);
  if (others.length > 0) {
    deps.stdout.write(`CustomResourceDefinitions kept: mesh ${others.join(', ')} still uses them\n`);
    return;
  }
  deps.stdout.write('Deleting the CustomResourceDefinitions: this deletes every mesh resource (MeshConfigs, Plugins, TrafficTargets, policies…) in every namespace\n');
  const crds = manifests.filter((x) => x.kind === 'CustomResourceDefinition');
  for (const m of crds) await del(m);
  await until('the CustomResourceDefinitions to be deleted', deadline, async () => {
    for (const m of crds) if (await getOrUndefined(api, 'CustomResourceDefinition', m.metadata.name)) return false;
    return true;
  });
  deps.stdout.write(`mesh "${r.mesh}" uninstalled\n`);
}

/** Other meshes' preset MeshConfigs (`<mesh>-mesh-config` in `<mesh>-system`). */
async function listOtherMeshes(api: KubeMeshApi, mesh: string): Promise<string[]> {
  let list: Resource[];
  try {
    list = await api.list({ kind: 'meshconfigs.config.flomesh.io', allNamespaces: true });
  } catch {
    return [];
  }
  const out = new Set<string>();
  for (const mc of list) {
    const m = /^(.+)-mesh-config$/.exec(mc.metadata.name);
    if (m && m[1] !== mesh && mc.metadata.namespace === `${m[1]}-system`) out.add(m[1]!);
  }
  return [...out];
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

export function registerInstall(program: Command, deps: CliDeps): void {
  program
    .command('install')
    .description('Install the mesh on the cluster of the current kubeconfig: CRDs, namespace, RBAC, control plane, webhook, MeshConfig, CA')
    .option('--set <key=value>', "set a value (FSM's names: fsm.meshName, fsm.image.registry, fsm.image.tag, fsm.enablePermissiveTrafficPolicy…); repeatable", collect, [])
    .option('--mesh-name <name>', 'name of the mesh (same as --set fsm.meshName=NAME)')
    .option('--dry-run', 'print the manifests as YAML documents instead of installing')
    .option('--timeout <duration>', 'how long to wait for the CRDs to be Established (and with --wait, for the Deployments)', '5m')
    .option('--wait', 'also wait for the controller, injector and bootstrap Deployments to be available (their images must run on the cluster\'s nodes)')
    .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
    .option('--controller-address <hosts>', 'extra IPs or DNS names (comma-separated) for the controller\'s serving certificate <mesh>-controller-tls, for a controller reached outside its Service (appended to --set fsm.fsmController.extraAddresses={…})', (v: string, prev: string[]) => [...prev, ...v.split(',')], [] as string[])
    .action(async (o: { set: string[]; meshName?: string; dryRun?: boolean; wait?: boolean; timeout: string; kubeconfig?: string; controllerAddress: string[] }) => {
      await runInstall({
        set: o.set, timeoutMs: parseDuration(o.timeout), ...(o.meshName ? { meshName: o.meshName } : {}), ...(o.dryRun ? { dryRun: true } : {}), ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
        ...(o.wait ? { wait: true } : {}),
        ...(o.controllerAddress.length ? { controllerAddresses: o.controllerAddress } : {}),
      }, deps);
    });
  program
    .command('uninstall')
    .description('Remove what `tessera install` created; the CRDs last, and with them every mesh resource of the cluster (unless --keep-crds)')
    .option('--set <key=value>', 'the values the mesh was installed with (names of its objects); repeatable', collect, [])
    .option('--mesh-name <name>', 'name of the mesh (same as --set fsm.meshName=NAME)')
    .option('--keep-crds', 'keep the CustomResourceDefinitions (and so the mesh resources of every namespace)')
    .option('--timeout <duration>', 'how long to wait for the namespace and the CRDs to be gone', '5m')
    .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, else ~/.kube/config)')
    .action(async (o: { set: string[]; meshName?: string; keepCrds?: boolean; timeout: string; kubeconfig?: string }) => {
      await runUninstall({ set: o.set, timeoutMs: parseDuration(o.timeout), ...(o.meshName ? { meshName: o.meshName } : {}), ...(o.keepCrds ? { keepCrds: true } : {}), ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}) }, deps);
    });
}
