/**
 * Authentication and authorization for the Kubernetes API: RBAC (the authorizer, its index and the
 * default policy), request attributes and kube-apiserver's 403, the review endpoints, ServiceAccount
 * tokens and OIDC id tokens.
 */
export type { AuthorizationAttributes, AuthorizationDecision, AuthUser, BindingObject, PolicyRule, RoleObject, RoleRef, Subject } from './types.js';
export { RBAC_API_VERSION, RBAC_GROUP, RBAC_KINDS } from './types.js';
export { authorize, appliesToUser, RbacIndex, ruleAllows, rulesFor, serviceAccountOf, SYSTEM_MASTERS } from './rbac.js';
export { defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.js';
export { attributesOf, forbiddenError, forbiddenMessage } from './attributes.js';
export { authorizeRequest, serveAuthRequest, withTokenReview, type AuthorizeFn, type AuthServices, type SubjectRules } from './handler.js';
export { impersonate, wantsImpersonation, IMPERSONATE_EXTRA_PREFIX, IMPERSONATE_GROUP_HEADER, IMPERSONATE_UID_HEADER, IMPERSONATE_USER_HEADER } from './impersonation.js';
export { API_TOKEN_FILE_ENV, tokenSource, type TokenSource } from './token-file.js';
export { DEFAULT_SA_ISSUER, LEGACY_TOKEN_SECRET_TYPE, ServiceAccountTokens } from './service-account-tokens.js';
export { OidcAuthenticator } from './oidc.js';
export { OidcConfigError, oidcOptionsPath, readOidcOptions, validateOidcOptions, writeOidcOptions, type OidcOptions } from './oidc-options.js';
