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
      // In a sandbox the pod's own sidecar reaches the app from the pod's loopback, and only it can.
      env: ctx.sandbox ? { STS_SIDECAR_ADDRESSES: '127.0.0.1', ...appEnv(ctx, port) } : appEnv(ctx, port),
      readiness: { kind: 'http', url: `http://${ctx.appAddress}:${port}/healthz` },
    };
  },
};
