/** Entry points of the local mesh lifecycle, used by the CLI's up/down commands. */

export interface UpOptions {
  stateDir: string;
  meshName: string;
  /** manifests (files, directories, `-`) applied once the mesh is ready */
  files: string[];
  detach: boolean;
  /** writes progress lines (the CLI passes process.stderr) */
  log: (line: string) => void;
  /** `--pod-network`: namespace, loopback or auto (default: $TESSERA_POD_NETWORK, else auto) */
  podNetwork?: string;
  /** `--container-log-max-size` / `--container-log-max-files` (validated); the kubelet's defaults when absent */
  logRotation?: { maxSize: number; maxFiles: number };
}
