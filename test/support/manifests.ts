/**
 * Manifests several end-to-end tests deploy: a named httpbin-backed service, a curl client, a
 * small node server outside the mesh (an issuer's JWKS endpoint, an authorizer), and the
 * ServiceAccount / Service / Deployment pieces they are made of.
 */

/** ServiceAccount `name` in `ns`. */
export const serviceAccount = (name: string, ns = 'default'): string => `apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}, namespace: ${ns} }`;

/** Service `name` in `ns` on `port` (named http), selecting `app: name`; `labelled` also labels the Service itself `app: name`. */
export const service = (name: string, ns: string, port: number, labelled = false): string => `apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: ${ns}${labelled ? `, labels: { app: ${name} }` : ''} }
spec:
  ports: [{ name: http, port: ${port} }]
  selector: { app: ${name} }`;

/**
 * Deployment `name` in `ns`: one replica labelled `app: name` running the one container `container`
 * (a flow mapping); as ServiceAccount `name` when `account`, and with the `local.tessera.dev/command`
 * annotation (what the local runtime runs instead of the image) when `command` is given.
 */
export function deployment(name: string, container: string, opts: { ns?: string; account?: boolean; command?: string } = {}): string {
  const podMeta =
    opts.command === undefined
      ? `metadata: { labels: { app: ${name} } }`
      : `metadata:
      labels: { app: ${name} }
      annotations:
        local.tessera.dev/command: >-
          ${opts.command}`;
  return `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: ${opts.ns ?? 'default'} }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    ${podMeta}
    spec:${opts.account === false ? '' : `\n      serviceAccountName: ${name}`}
      containers:
      - ${container}`;
}

/**
 * ServiceAccount, Service (port 14001) and Deployment `name` in `default`, running the httpbin app;
 * with `account: false`, no ServiceAccount: the pod runs as the namespace's default account.
 */
export function httpbinApp(name: string, opts: { account?: boolean } = {}): string {
  const account = opts.account ?? true;
  return `
${account ? `${serviceAccount(name)}
---
` : ''}${service(name, 'default', 14001, true)}
---
${deployment(name, '{ name: httpbin, image: flomesh/httpbin:ken, ports: [{ containerPort: 14001 }] }', { account })}
`;
}

/** ServiceAccount and Deployment `name` in `default`: a curlimages/curl container that only sleeps (a client to exec into). */
export function sleeperClient(name: string): string {
  return `
${serviceAccount(name)}
---
${deployment(name, `{ name: ${name}, image: curlimages/curl, command: ["sleep", "365d"] }`)}
`;
}

/**
 * Service and Deployment `name` in `ns` (no ServiceAccount of its own): an HTTP server on port 8080
 * that runs `node -e script` (the script listens on $PORT at $HOST), with `env` (a flow sequence) set.
 */
export function nodeServer(name: string, ns: string, script: string, env?: string): string {
  return `
${service(name, ns, 8080)}
---
${deployment(name, `{ name: ${name}, image: node:20, ports: [{ containerPort: 8080 }]${env ? `, env: ${env}` : ''} }`, {
  ns,
  account: false,
  command: `exec "${process.execPath}" -e '${script}'`,
})}
`;
}
