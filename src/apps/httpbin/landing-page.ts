/** The HTML served at `/`: a short stand-in for httpbin's Swagger landing page. */

const ENDPOINTS: ReadonlyArray<readonly [string, string]> = [
  ['/get', "The request's query parameters."],
  ['/post, /put, /patch, /delete', "The request's body, form, files and JSON for that method."],
  ['/anything, /anything/{anything}', 'Anything passed in the request, for any method.'],
  ['/headers', "The request's headers."],
  ['/ip', "The requester's IP address."],
  ['/user-agent', "The request's User-Agent header."],
  ['/status/{codes}', 'The given status code, or one picked at random from a comma-separated list.'],
  ['/delay/{n}', 'A /get-style response after n seconds (at most 10).'],
  ['/response-headers?name=value', 'Response headers set from the query string.'],
];

export const LANDING_PAGE =
  '<!DOCTYPE html>\n' +
  '<html lang="en">\n' +
  '<head>\n' +
  '  <meta charset="UTF-8">\n' +
  '  <title>httpbin.org</title>\n' +
  '</head>\n' +
  '<body>\n' +
  '  <h1>httpbin.org <small>0.9.2</small></h1>\n' +
  '  <p>A simple HTTP Request &amp; Response Service.</p>\n' +
  '  <ul>\n' +
  ENDPOINTS.map(([path, what]) => `    <li><code>${path}</code> ${what}</li>\n`).join('') +
  '  </ul>\n' +
  '</body>\n' +
  '</html>\n';
