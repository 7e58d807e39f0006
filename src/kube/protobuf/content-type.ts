/** Recognising Kubernetes' protobuf media type in a Content-Type header. */

export const KUBE_PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';

/**
 * True for `application/vnd.kubernetes.protobuf` with any parameters except `stream=watch`,
 * which frames a sequence of length-prefixed watch events rather than one object.
 */
export function isKubeProtobuf(contentType: string | undefined | null): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((s) => s.trim());
  if (type?.toLowerCase() !== KUBE_PROTOBUF_CONTENT_TYPE) return false;
  return !params.some((p) => {
    const eq = p.indexOf('=');
    return eq > 0 && p.slice(0, eq).trim().toLowerCase() === 'stream' && p.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase() === 'watch';
  });
}
