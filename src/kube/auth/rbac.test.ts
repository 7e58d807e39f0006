/**
 * The RBAC authorizer against the examples of the Kubernetes RBAC documentation
 * (https://kubernetes.io/docs/reference/access-authn-authz/rbac/), the default roles, the index
 * kept up to date object by object, and kube-apiserver's attributes and 403 wording.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attributesOf, forbiddenError } from './attributes.js';
import { defaultClusterRoleBindings, defaultClusterRoles } from './bootstrap-policy.js';
import { authorize, RbacIndex, rulesFor } from './rbac.js';
import { parseRequestInfo } from '../apiserver/request-info.js';
import type { AuthorizationAttributes, AuthUser, BindingObject, PolicyRule, RoleObject, Subject } from './types.js';

const V = 'rbac.authorization.k8s.io/v1';
const role = (namespace: string, name: string, rules: PolicyRule[]): RoleObject => ({ apiVersion: V, kind: 'Role', metadata: { name, namespace }, rules });
const clusterRole = (name: string, rules: PolicyRule[], labels?: Record<string, string>): RoleObject => ({ apiVersion: V, kind: 'ClusterRole', metadata: { name, ...(labels ? { labels } : {}) }, rules });
const roleBinding = (namespace: string, name: string, ref: [string, string], subjects: Subject[]): BindingObject => ({
  apiVersion: V, kind: 'RoleBinding', metadata: { name, namespace }, subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: ref[0], name: ref[1] },
});
const clusterBinding = (name: string, roleName: string, subjects: Subject[]): BindingObject => ({
  apiVersion: V, kind: 'ClusterRoleBinding', metadata: { name }, subjects, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName },
});
const user = (name: string, ...groups: string[]): AuthUser => ({ username: name, groups: [...groups, 'system:authenticated'] });
const sa = (ns: string, name: string): AuthUser => ({ username: `system:serviceaccount:${ns}:${name}`, groups: ['system:serviceaccounts', `system:serviceaccounts:${ns}`, 'system:authenticated'] });

function res(verb: string, resource: string, namespace = '', extra: Partial<AuthorizationAttributes> = {}): AuthorizationAttributes {
  const [r, sub] = resource.split('/');
  return { resourceRequest: true, verb, apiGroup: '', apiVersion: 'v1', resource: r!, subresource: sub ?? '', namespace, name: '', path: '', ...extra };
}
const url = (verb: string, path: string): AuthorizationAttributes => ({ resourceRequest: false, verb, apiGroup: '', apiVersion: '', resource: '', subresource: '', namespace: '', name: '', path });

function indexOf(...objs: (RoleObject | BindingObject)[]): RbacIndex {
  const i = new RbacIndex();
  for (const o of objs) i.put(o);
  return i;
}

describe('RBAC authorizer (the documentation examples)', () => {
  const docs = indexOf(
    role('default', 'pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'watch', 'list'] }]),
    roleBinding('default', 'read-pods', ['Role', 'pod-reader'], [{ kind: 'User', name: 'jane', apiGroup: 'rbac.authorization.k8s.io' }]),
    clusterRole('secret-reader', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get', 'watch', 'list'] }]),
    roleBinding('development', 'read-secrets', ['ClusterRole', 'secret-reader'], [{ kind: 'User', name: 'dave', apiGroup: 'rbac.authorization.k8s.io' }]),
    clusterBinding('read-secrets-global', 'secret-reader', [{ kind: 'Group', name: 'manager', apiGroup: 'rbac.authorization.k8s.io' }]),
    role('default', 'configmap-updater', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['my-configmap'], verbs: ['update', 'get'] }]),
    roleBinding('default', 'cm', ['Role', 'configmap-updater'], [{ kind: 'User', name: 'cmu' }]),
    role('default', 'pod-and-pod-logs-reader', [{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list'] }]),
    roleBinding('default', 'logs', ['Role', 'pod-and-pod-logs-reader'], [{ kind: 'User', name: 'logger' }]),
    role('default', 'logs-only', [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }]),
    roleBinding('default', 'logs-only', ['Role', 'logs-only'], [{ kind: 'User', name: 'logs-only' }]),
    clusterRole('scaler', [{ apiGroups: ['*'], resources: ['*/scale'], verbs: ['*'] }]),
    clusterBinding('scaler', 'scaler', [{ kind: 'User', name: 'scaler' }]),
    clusterRole('health', [{ nonResourceURLs: ['/healthz', '/healthz/*'], verbs: ['get', 'post'] }]),
    clusterBinding('health', 'health', [{ kind: 'Group', name: 'checkers' }]),
    clusterRole('deployer', [{ apiGroups: ['apps'], resources: ['deployments'], verbs: ['create', 'update'] }]),
    roleBinding('dev', 'sa-local', ['ClusterRole', 'deployer'], [{ kind: 'ServiceAccount', name: 'default' }]),
    roleBinding('dev', 'sa-remote', ['ClusterRole', 'secret-reader'], [{ kind: 'ServiceAccount', name: 'my-sa', namespace: 'kube-system' }]),
    roleBinding('qa', 'all-qa-sa', ['ClusterRole', 'secret-reader'], [{ kind: 'Group', name: 'system:serviceaccounts:qa' }]),
    clusterBinding('sa-no-ns', 'secret-reader', [{ kind: 'ServiceAccount', name: 'nobody' }]),
    roleBinding('default', 'dangling', ['ClusterRole', 'missing-role'], [{ kind: 'User', name: 'lost' }]),
    roleBinding('default', 'dangling-role', ['Role', 'missing-ns-role'], [{ kind: 'User', name: 'lost' }]),
  );

  const cases: [string, AuthUser, AuthorizationAttributes, boolean][] = [
    ['jane reads pods in default', user('jane'), res('list', 'pods', 'default'), true],
    ['jane gets a pod in default', user('jane'), res('get', 'pods', 'default', { name: 'x' }), true],
    ['jane may not read pods in kube-system', user('jane'), res('list', 'pods', 'kube-system'), false],
    ['jane may not list pods across namespaces', user('jane'), res('list', 'pods'), false],
    ['jane may not delete pods', user('jane'), res('delete', 'pods', 'default', { name: 'x' }), false],
    ['jane may not read secrets', user('jane'), res('get', 'secrets', 'default', { name: 's' }), false],
    ['jane: the rule is for the core group only', user('jane'), res('list', 'pods', 'default', { apiGroup: 'metrics.k8s.io' }), false],
    ['dave reads secrets in development', user('dave'), res('get', 'secrets', 'development', { name: 's' }), true],
    ['dave does not read secrets elsewhere', user('dave'), res('get', 'secrets', 'default', { name: 's' }), false],
    ['a manager reads secrets in any namespace', user('m', 'manager'), res('watch', 'secrets', 'prod'), true],
    ['a manager lists secrets cluster-wide', user('m', 'manager'), res('list', 'secrets'), true],
    ['resourceNames: my-configmap may be updated', user('cmu'), res('update', 'configmaps', 'default', { name: 'my-configmap' }), true],
    ['resourceNames: another configmap may not', user('cmu'), res('update', 'configmaps', 'default', { name: 'other' }), false],
    ['resourceNames: list has no name and does not match', user('cmu'), res('list', 'configmaps', 'default'), false],
    ['pods and pods/log: the log', user('logger'), res('get', 'pods/log', 'default', { name: 'p' }), true],
    ['pods and pods/log: not exec', user('logger'), res('get', 'pods/exec', 'default', { name: 'p' }), false],
    ['pods/log alone does not grant pods', user('logs-only'), res('get', 'pods', 'default', { name: 'p' }), false],
    ['pods/log alone grants the log', user('logs-only'), res('get', 'pods/log', 'default', { name: 'p' }), true],
    ['*/scale matches deployments/scale', user('scaler'), res('update', 'deployments/scale', 'x', { apiGroup: 'apps' }), true],
    ['*/scale does not match deployments', user('scaler'), res('update', 'deployments', 'x', { apiGroup: 'apps' }), false],
    ['nonResourceURLs: exact', user('c', 'checkers'), url('get', '/healthz'), true],
    ['nonResourceURLs: prefix with *', user('c', 'checkers'), url('post', '/healthz/etcd'), true],
    ['nonResourceURLs: the * is a path prefix', user('c', 'checkers'), url('get', '/healthzx'), false],
    ['nonResourceURLs: verb', user('c', 'checkers'), url('put', '/healthz'), false],
    ['nonResourceURLs never grant resources', user('c', 'checkers'), res('get', 'healthz'), false],
    ['a ServiceAccount subject without namespace is the binding\'s', sa('dev', 'default'), res('create', 'deployments', 'dev', { apiGroup: 'apps' }), true],
    ['… and not one of another namespace', sa('other', 'default'), res('create', 'deployments', 'dev', { apiGroup: 'apps' }), false],
    ['a ServiceAccount of another namespace', sa('kube-system', 'my-sa'), res('get', 'secrets', 'dev', { name: 's' }), true],
    ['the group of all ServiceAccounts of qa', sa('qa', 'anything'), res('list', 'secrets', 'qa'), true],
    ['a ClusterRoleBinding ServiceAccount without namespace matches nobody', sa('default', 'nobody'), res('list', 'secrets'), false],
    ['system:masters may do anything', user('root', 'system:masters'), res('delete', 'nodes', '', { name: 'n' }), true],
    ['anyone else nothing', user('nobody'), res('get', 'pods', 'default', { name: 'p' }), false],
  ];
  for (const [what, u, attrs, allowed] of cases) {
    it(what, () => assert.equal(authorize(attrs, u, docs).allowed, allowed));
  }

  it('says which binding allowed, as kube-apiserver does', () => {
    assert.equal(authorize(res('list', 'pods', 'default'), user('jane'), docs).reason, 'RBAC: allowed by RoleBinding "read-pods/default" of Role "pod-reader" to User "jane"');
    assert.equal(authorize(res('list', 'secrets'), user('m', 'manager'), docs).reason, 'RBAC: allowed by ClusterRoleBinding "read-secrets-global" of ClusterRole "secret-reader" to Group "manager"');
    assert.equal(authorize(res('create', 'deployments', 'dev', { apiGroup: 'apps' }), sa('dev', 'default'), docs).reason,
      'RBAC: allowed by RoleBinding "sa-local/dev" of ClusterRole "deployer" to ServiceAccount "default/dev"');
    assert.deepEqual(authorize(res('get', 'pods', 'default'), user('nobody'), docs), { allowed: false, reason: '' });
  });

  it('names missing roles in the reason of a denial', () => {
    assert.deepEqual(authorize(res('get', 'pods', 'default'), user('lost'), docs), {
      allowed: false, reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "missing-role" not found, role.rbac.authorization.k8s.io "missing-ns-role" not found]',
    });
  });

  it('follows changes one object at a time', () => {
    const i = indexOf(role('default', 'r', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]));
    const b = roleBinding('default', 'b', ['Role', 'r'], [{ kind: 'User', name: 'jane' }]);
    assert.equal(authorize(res('get', 'pods', 'default'), user('jane'), i).allowed, false);
    i.apply({ type: 'ADDED', object: b });
    assert.equal(authorize(res('get', 'pods', 'default'), user('jane'), i).allowed, true);
    // the binding now names someone else: jane loses it, joe gets it
    i.apply({ type: 'MODIFIED', object: { ...b, subjects: [{ kind: 'User', name: 'joe' }] } as BindingObject });
    assert.equal(authorize(res('get', 'pods', 'default'), user('jane'), i).allowed, false);
    assert.equal(authorize(res('get', 'pods', 'default'), user('joe'), i).allowed, true);
    // the role changes: delete instead of get
    i.put(role('default', 'r', [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }]));
    assert.equal(authorize(res('get', 'pods', 'default'), user('joe'), i).allowed, false);
    assert.equal(authorize(res('delete', 'pods', 'default'), user('joe'), i).allowed, true);
    i.apply({ type: 'DELETED', object: b });
    assert.equal(authorize(res('delete', 'pods', 'default'), user('joe'), i).allowed, false);
    assert.deepEqual(i.size(), { roles: 1, clusterRoles: 0, bindings: 0 });
  });

  it('looks only at the bindings of the user', () => {
    const i = new RbacIndex();
    i.put(clusterRole('r', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]));
    for (let n = 0; n < 5000; n++) i.put(roleBinding(`ns${n % 50}`, `b${n}`, ['ClusterRole', 'r'], [{ kind: 'User', name: `u${n}` }]));
    assert.equal(i.bindingsFor(user('u4321'), 'ns21').length, 1);
    assert.equal(i.bindingsFor(user('u4321'), 'ns22').length, 0);
    assert.equal(authorize(res('get', 'pods', 'ns21'), user('u4321'), i).allowed, true);
  });

  it('aggregates ClusterRoles by label selector', () => {
    const monitoring: RoleObject = { apiVersion: V, kind: 'ClusterRole', metadata: { name: 'monitoring' }, aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.example.com/aggregate-to-monitoring': 'true' } }] }, rules: [] };
    const i = indexOf(monitoring, clusterBinding('mon', 'monitoring', [{ kind: 'User', name: 'mo' }]));
    assert.equal(authorize(res('get', 'services', 'x'), user('mo'), i).allowed, false);
    i.put(clusterRole('monitoring-endpoints', [{ apiGroups: [''], resources: ['services', 'endpointslices', 'pods'], verbs: ['get', 'list', 'watch'] }], { 'rbac.example.com/aggregate-to-monitoring': 'true' }));
    assert.equal(authorize(res('get', 'services', 'x'), user('mo'), i).allowed, true);
    i.remove(clusterRole('monitoring-endpoints', []));
    assert.equal(authorize(res('get', 'services', 'x'), user('mo'), i).allowed, false);
  });
});

describe('default roles', () => {
  const base = indexOf(...defaultClusterRoles(), ...defaultClusterRoleBindings(),
    roleBinding('team', 'viewers', ['ClusterRole', 'view'], [{ kind: 'User', name: 'viewer' }]),
    roleBinding('team', 'editors', ['ClusterRole', 'edit'], [{ kind: 'User', name: 'editor' }]),
    roleBinding('team', 'admins', ['ClusterRole', 'admin'], [{ kind: 'User', name: 'admin' }]),
  );
  const anon: AuthUser = { username: 'system:anonymous', groups: ['system:unauthenticated'] };
  const cases: [string, AuthUser, AuthorizationAttributes, boolean][] = [
    ['view: list pods', user('viewer'), res('list', 'pods', 'team'), true],
    ['view: get deployments', user('viewer'), res('get', 'deployments', 'team', { apiGroup: 'apps', name: 'd' }), true],
    ['view: read its namespace', user('viewer'), res('get', 'namespaces', 'team', { name: 'team' }), true],
    ['view: no secrets', user('viewer'), res('get', 'secrets', 'team', { name: 's' }), false],
    ['view: no writes', user('viewer'), res('delete', 'pods', 'team', { name: 'p' }), false],
    ['view: no exec', user('viewer'), res('create', 'pods/exec', 'team', { name: 'p' }), false],
    ['view: not in another namespace', user('viewer'), res('list', 'pods', 'other'), false],
    ['edit: create deployments', user('editor'), res('create', 'deployments', 'team', { apiGroup: 'apps' }), true],
    ['edit: exec', user('editor'), res('create', 'pods/exec', 'team', { name: 'p' }), true],
    ['edit: read secrets', user('editor'), res('get', 'secrets', 'team', { name: 's' }), true],
    ['edit: create tokens', user('editor'), res('create', 'serviceaccounts/token', 'team', { name: 'default' }), true],
    ['edit: no roles', user('editor'), res('create', 'roles', 'team', { apiGroup: 'rbac.authorization.k8s.io' }), false],
    ['admin: roles and bindings', user('admin'), res('create', 'rolebindings', 'team', { apiGroup: 'rbac.authorization.k8s.io' }), true],
    ['admin: not cluster roles', user('admin'), res('create', 'clusterroles', '', { apiGroup: 'rbac.authorization.k8s.io' }), false],
    ['admin: not the namespace itself', user('admin'), res('delete', 'namespaces', 'team', { name: 'team' }), false],
    ['authenticated: discovery', user('anyone'), url('get', '/apis/apps/v1'), true],
    ['authenticated: openapi', user('anyone'), url('get', '/openapi/v2'), true],
    ['authenticated: access reviews', user('anyone'), res('create', 'selfsubjectaccessreviews', '', { apiGroup: 'authorization.k8s.io' }), true],
    ['authenticated: whoami', user('anyone'), res('create', 'selfsubjectreviews', '', { apiGroup: 'authentication.k8s.io' }), true],
    ['authenticated: nothing else', user('anyone'), res('list', 'namespaces'), false],
    ['anonymous: health and version', anon, url('get', '/version'), true],
    ['anonymous: not discovery', anon, url('get', '/api'), false],
    ['service accounts: issuer discovery', sa('x', 'y'), url('get', '/openid/v1/jwks'), true],
  ];
  for (const [what, u, attrs, allowed] of cases) {
    it(what, () => assert.equal(authorize(attrs, u, base).allowed, allowed));
  }
  it('cluster-admin is bound to system:masters', () => {
    const b = defaultClusterRoleBindings().find((x) => x.metadata.name === 'cluster-admin')!;
    assert.deepEqual(b.subjects, [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:masters' }]);
  });
  it('admin, edit and view are aggregated (a role labelled aggregate-to-view extends all three)', () => {
    const i = indexOf(...defaultClusterRoles(), roleBinding('team', 'v', ['ClusterRole', 'view'], [{ kind: 'User', name: 'v' }]), roleBinding('team', 'a', ['ClusterRole', 'admin'], [{ kind: 'User', name: 'a' }]));
    const crds = res('list', 'meshconfigs', 'team', { apiGroup: 'config.flomesh.io' });
    assert.equal(authorize(crds, user('v'), i).allowed, false);
    i.put(clusterRole('mesh-view', [{ apiGroups: ['config.flomesh.io'], resources: ['meshconfigs'], verbs: ['get', 'list', 'watch'] }], { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' }));
    assert.equal(authorize(crds, user('v'), i).allowed, true);
    assert.equal(authorize(crds, user('a'), i).allowed, true);
  });
  it('lists the rules of a user in a namespace', () => {
    const { rules, errors } = rulesFor(user('viewer'), 'team', base);
    assert.deepEqual(errors, []);
    assert.ok(rules.some((r) => r.resources?.includes('pods') && r.verbs.includes('list')));
    assert.ok(rules.some((r) => r.nonResourceURLs?.includes('/api')));
  });
});

describe('request attributes and the 403', () => {
  const attrs = (method: string, path: string): AuthorizationAttributes[] => {
    const u = new URL(path, 'https://x');
    return attributesOf(method, u, parseRequestInfo(method, u));
  };
  const message = (method: string, path: string, who = 'jane'): string => forbiddenError(attrs(method, path)[0]!, who).message;

  it('words denials as kube-apiserver does', () => {
    assert.equal(message('GET', '/api/v1/namespaces/default/pods'), 'pods is forbidden: User "jane" cannot list resource "pods" in API group "" in the namespace "default"');
    assert.equal(message('DELETE', '/api/v1/namespaces/default/pods/x', 'oidc:viewer@example.com'),
      'pods "x" is forbidden: User "oidc:viewer@example.com" cannot delete resource "pods" in API group "" in the namespace "default"');
    assert.equal(message('GET', '/api/v1/pods?watch=true'), 'pods is forbidden: User "jane" cannot watch resource "pods" in API group "" at the cluster scope');
    assert.equal(message('POST', '/apis/apps/v1/namespaces/a/deployments'), 'deployments.apps is forbidden: User "jane" cannot create resource "deployments" in API group "apps" in the namespace "a"');
    assert.equal(message('PATCH', '/apis/apps/v1/namespaces/a/deployments/d/scale'), 'deployments.apps "d" is forbidden: User "jane" cannot patch resource "deployments/scale" in API group "apps" in the namespace "a"');
    assert.equal(message('DELETE', '/api/v1/namespaces/a/configmaps'), 'configmaps is forbidden: User "jane" cannot deletecollection resource "configmaps" in API group "" in the namespace "a"');
    assert.equal(message('GET', '/api/v1/namespaces/kube-system'), 'namespaces "kube-system" is forbidden: User "jane" cannot get resource "namespaces" in API group "" in the namespace "kube-system"');
    assert.equal(message('GET', '/logs/x'), 'forbidden: User "jane" cannot get path "/logs/x"');
    assert.equal(message('GET', '/api/v1/nodes', '<b>'), 'nodes is forbidden: User "&lt;b&gt;" cannot list resource "nodes" in API group "" at the cluster scope');
    const e = forbiddenError(attrs('DELETE', '/api/v1/namespaces/default/pods/x')[0]!, 'jane', 'RBAC: role.rbac.authorization.k8s.io "r" not found');
    assert.equal(e.status.code, 403);
    assert.equal(e.status.reason, 'Forbidden');
    assert.deepEqual(e.status.details, { name: 'x', kind: 'pods' });
    assert.match(e.message, /in the namespace "default": RBAC: role\.rbac\.authorization\.k8s\.io "r" not found$/);
  });

  it('reads the name of a single-object list or watch from the field selector', () => {
    const [a] = attrs('GET', '/api/v1/namespaces/d/pods?fieldSelector=metadata.name%3Dweb&watch=1');
    assert.equal(a!.verb, 'watch');
    assert.equal(a!.name, 'web');
  });

  it('exec over a websocket (GET) needs create too; over SPDY (POST) create', () => {
    assert.deepEqual(attrs('GET', '/api/v1/namespaces/d/pods/p/exec?command=ls').map((a) => a.verb), ['get', 'create']);
    assert.deepEqual(attrs('POST', '/api/v1/namespaces/d/pods/p/exec?command=ls').map((a) => `${a.verb} ${a.resource}/${a.subresource}`), ['create pods/exec']);
    assert.deepEqual(attrs('GET', '/api/v1/namespaces/d/pods/p/log').map((a) => a.verb), ['get']);
  });
});
