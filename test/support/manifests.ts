/** Manifests several end-to-end tests deploy: a named httpbin-backed service, or a curl client, each with its own account. */

/** ServiceAccount `name` in `default`. */
const account = (name: string): string => `apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}, namespace: default }`;

/** Deployment `name` in `default`: one replica labelled `app: name`, running as account `name` the one container `container` (a flow mapping). */
const deployment = (name: string, container: string): string => `apiVersion: apps/v1
kind: Deployment
metadata: { name: ${name}, namespace: default }
spec:
  replicas: 1
  selector: { matchLabels: { app: ${name} } }
  template:
    metadata: { labels: { app: ${name} } }
    spec:
      serviceAccountName: ${name}
      containers:
      - ${container}`;

/** ServiceAccount, Service (port 14001) and Deployment `name` in `default`, running the httpbin app. */
export function httpbinApp(name: string): string {
  return `
${account(name)}
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default, labels: { app: ${name} } }
spec:
  ports: [{ name: http, port: 14001 }]
  selector: { app: ${name} }
---
${deployment(name, '{ name: httpbin, image: flomesh/httpbin:ken, ports: [{ containerPort: 14001 }] }')}
`;
}

/** ServiceAccount and Deployment `name` in `default`: a curlimages/curl container that only sleeps (a client to exec into). */
export function sleeperClient(name: string): string {
  return `
${account(name)}
---
${deployment(name, `{ name: ${name}, image: curlimages/curl, command: ["sleep", "365d"] }`)}
`;
}
