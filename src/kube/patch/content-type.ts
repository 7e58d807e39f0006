/** The four PATCH bodies kube-apiserver accepts, keyed by the request's Content-Type. */

export type PatchType = 'json' | 'merge' | 'strategic' | 'apply';

const TYPES: ReadonlyMap<string, PatchType> = new Map([
  ['application/json-patch+json', 'json'],
  ['application/merge-patch+json', 'merge'],
  ['application/strategic-merge-patch+json', 'strategic'],
  ['application/apply-patch+yaml', 'apply'],
]);

/** `undefined` for anything else, which the server answers with 415 Unsupported Media Type. */
export function patchTypeOf(contentType: string): PatchType | undefined {
  const semi = contentType.indexOf(';');
  // Media types are case-insensitive (RFC 9110 §8.3.1); parameters such as charset do not matter here.
  const mediaType = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  return TYPES.get(mediaType);
}
