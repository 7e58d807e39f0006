/** What a CA hands back for a signed request. */

export interface IssuedCertificate {
  /** the leaf, PEM */
  certificatePem: string;
  /** the leaf followed by any intermediates (not the root), ready for TLS `cert` */
  chainPem: string;
  /** the root(s) that verify `chainPem`, PEM; sidecars get the full trust bundle separately */
  issuingCaPem: string;
  /** hex, as `openssl x509 -serial` prints it */
  serialNumber: string;
  notBefore: Date;
  notAfter: Date;
}
