/** Kiali-style warnings for Istio security policies: on apply (API server `Warning:` headers) and in `tessera policy check`. */
export { lintAuthorizationPolicy, lintPolicy, lintRequestAuthentication, lintWorldOf, type LintWorld } from './lint.js';
