export { defaultValues, setValue, resolveValues, valueKeys, injectorServingNames, controllerServingNames, addressProblem, webhookUrlProblem, DEFAULT_IMAGE_TAG, DEFAULT_MESH_NAME, type InstallValues, type Resolved, type ValueType } from './values.js';
export { renderCrds, crdFor, crdName, meshResourceTypes } from './crds.js';
export {
  renderInstall, renderResolved, PLACEHOLDER_SECRETS, MUTATING_WEBHOOK_NAME, componentName, webhookConfigName, meshKeySecretName,
  injectorTlsSecretName, controllerTlsSecretName, tokenSecretName, controllerReadRules, controllerSecretPolicyName,
  CONTROLLER_SECRET_POLICY_MESSAGE, rbacTable, type InstallSecrets, type Component,
} from './render.js';
export { sortForInstall, INSTALL_ORDER, type Manifest } from './manifest.js';
export { toYaml, toYamlDocuments, parseYamlDocuments } from './yaml.js';
export { chartFiles, templatize } from './chart.js';
