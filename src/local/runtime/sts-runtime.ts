/** The `tessera/sts` image: the token service (src/sts/main.ts) as a Node process in the user's pod. */
import { fileURLToPath } from 'node:url';
import { appEnv, firstContainerPort } from './app-env.js';
import { imageName } from './image-name.js';
import type { ImageRuntime } from './types.js';

export const STS_IMAGE = 'tessera/sts';

export const stsRuntime: ImageRuntime = {
  name: 'sts',
  matches: (image) => imageName(image) === STS_IMAGE,
  command(ctx) {
    const port = firstContainerPort(ctx.container, 8080);
    return {
      command: process.execPath,
      args: [fileURLToPath(new URL('../../sts/main.js', import.meta.url))],
      // The service believes `serviceidentity` only on connections from the pod IP (main.ts's default,
      // STS_SIDECAR_ADDRESSES=POD_IP): the sidecar sets that header from the caller's verified
      // certificate and reaches the app on the pod's private loopback address from the pod IP (its
      // upstream client binds the pod IP for loopback destinations; the raw TCP path does not, so
      // bytes it passes through arrive from 127.0.0.1 and are not believed). In a sandbox that is
      // sound: the app listens on the pod's own `lo`, every TCP connection arriving from another pod
      // is redirected to the sidecar's inbound port, and no other pod can use this pod's IP. In
      // loopback mode any local process can bind the pod IP (docs/security.md).
      env: appEnv(ctx, port),
      readiness: { kind: 'http', url: `http://${ctx.appAddress}:${port}/healthz` },
    };
  },
};
