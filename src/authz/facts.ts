/** What the authorization evaluator knows about one request; every field comes from a verified source (security-rules.md §11 rule 4). */

export interface RequestFacts {
  /** exact, case-sensitive (§1 "Operation fields") */
  method: string;
  /** the path the request is forwarded with, query and fragment removed */
  path: string;
  /** Host / :authority including any port */
  host: string;
  /** the workload port the request arrived on (not the Service port) */
  port: number;
  /** the socket peer, never X-Forwarded-For */
  sourceIp: string;
  /** the local address the request arrived on */
  destinationIp?: string;
  /** Istio form `cluster.local/ns/NS/sa/SA`, only from a verified mTLS certificate */
  sourcePrincipal?: string;
  sourceNamespace?: string;
  /** `iss/sub` of a verified JWT */
  requestPrincipal?: string;
  /** the verified JWT's payload */
  claims?: Readonly<Record<string, unknown>>;
  /**
   * Claims whose string value is a space-separated list (`request.auth.claims[scope]` matches `read`
   * in "read write"): the verifying rule's `spaceDelimitedClaims` plus Istio's `scope` and
   * `permission`; absent: those two (DEFAULT_SPACE_DELIMITED_CLAIMS)
   */
  spaceDelimitedClaims?: ReadonlySet<string>;
  /** lower-case names */
  headers: Readonly<Record<string, string | readonly string[] | undefined>>;
  /** `connection.sni`: the server name the client asked for in a verified mTLS handshake; none for plaintext */
  sni?: string | undefined;
}

export interface Decision {
  allow: boolean;
  /** `ns/name` of the deciding policy (absent when no policy decided) */
  policy?: string;
  /** the index of the deciding policy's matching rule */
  rule?: number;
  /** the deciding policy's action */
  action?: 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';
  /**
   * On "no ALLOW policy matched": the ALLOW rule that came closest and the first of its conditions
   * the request fails (a field name, never a value), to explain the denial.
   */
  closest?: { policy: string; rule?: number; condition: string };
  reason: string;
}
