/** `tessera policy check`: a pod's authorization decision on one request, explained, without traffic. */
export { checkRequest, type CheckRequest, type CheckResult, type FetchJwks, type JwtOutcome } from './check.js';
