/** Manifests several end-to-end tests deploy: a named httpbin-backed service with its own account. */

/** ServiceAccount, Service (port 14001) and Deployment `name` in `default`, running the httpbin app. */
export function httpbinApp(name: string): string {
  return `
apiVersion: v1
kind: ServiceAccount
metadata: { name: ${name}, namespace: default }
---
apiVersion: v1
kind: Service
metadata: { name: ${name}, namespace: default, labels: { app: ${name} } }
spec:
  ports: [{ name: http, port: 14001 }]
  selector: { app: ${name} }
---
apiVersion: apps/v1
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
      - { name: httpbin, image: flomesh/httpbin:ken, ports: [{ containerPort: 14001 }] }
`;
}
