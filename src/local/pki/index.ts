export { ensureClusterPki, issueServingCertificate, type ServingCertificateFiles, signClusterLeaf, userOfCertificate, pkiDir, ADMIN_USER, ADMIN_GROUP, type ClusterPki, type PemPair, type LeafRequest } from './cluster-pki.js';
export { kubeconfigPath, kubeconfigYaml, writeKubeconfig, contextName } from './kubeconfig.js';
