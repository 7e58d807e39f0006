/** What `/version` reports: the Kubernetes API level the local server implements, and Tessera's build. */
import type { VersionInfo } from '../../kube/apiserver/index.js';

export const KUBE_VERSION: VersionInfo = {
  major: '1',
  minor: '33',
  gitVersion: 'v1.33.0+tessera',
  gitCommit: '',
  gitTreeState: 'clean',
  buildDate: '2026-12-07T00:00:00Z',
  goVersion: `node${process.versions.node}`,
  compiler: 'tsc',
  platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
};
