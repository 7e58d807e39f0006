/** Node's `_http_common` (the llhttp binding node:http is built on); typed in src/sidecar/engine/llhttp.ts. */
declare module '_http_common' {
  export const HTTPParser: unknown;
  /** method names by llhttp's method index */
  export const methods: string[];
}
