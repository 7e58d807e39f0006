/** Image references reduced to the name runtimes match on. */

/** `repo/name:tag@digest` → `repo/name`, so `tessera/sidecar:latest` still counts as the sidecar. */
export function imageName(image: string): string {
  const noDigest = image.split('@')[0] ?? image;
  const lastSlash = noDigest.lastIndexOf('/');
  const colon = noDigest.indexOf(':', lastSlash + 1);
  return colon === -1 ? noDigest : noDigest.slice(0, colon);
}
