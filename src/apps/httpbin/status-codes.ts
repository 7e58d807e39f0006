/** `/status/{codes}`: pick a code (optionally weighted) and answer with httpbin's canned response for it. */

import { HTML_UTF8, textReply, type Reply } from './replies.js';

const TEAPOT = [
  '',
  '    -=[ teapot ]=-',
  '',
  '       _...._',
  "     .'  _ _ `.",
  '    | ."` ^ `". _,',
  '    \\_;`"---"`|//',
  '      |       ;/',
  '      \\_     _/',
  '        `"""`',
  '',
].join('\n');

// httpbin builds this with plain json.dumps: one line, insertion order, no trailing newline.
const NOT_ACCEPTABLE_BODY =
  '{"message": "Client did not request a supported media type.", ' +
  '"accept": ["image/webp", "image/svg+xml", "image/jpeg", "image/png", "image/*"]}';

const INTEGER = /^\s*[-+]?\d+\s*$/;
const WEIGHT = /^\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?\s*$/;

/** Parses `codes` ("418", "200,500" or "200:0.9,500:0.1") and picks one; undefined when invalid. */
export function chooseStatus(codes: string, random: () => number = Math.random): number | undefined {
  const choices: Array<{ code: number; weight: number }> = [];
  for (const choice of codes.split(',')) {
    const [codeText = '', weightText, ...rest] = choice.split(':');
    if (rest.length > 0 || !INTEGER.test(codeText)) return undefined;
    if (weightText !== undefined && !WEIGHT.test(weightText)) return undefined;
    choices.push({ code: Number(codeText), weight: weightText === undefined ? 1 : Number(weightText) });
  }
  if (choices.length === 1) return choices[0]!.code;
  // httpbin's weighted_choice: uniform point in [0, total), first cumulative weight above it.
  const total = choices.reduce((sum, c) => sum + c.weight, 0);
  const point = random() * total;
  let cumulative = 0;
  for (const choice of choices) {
    cumulative += choice.weight;
    if (point < cumulative) return choice.code;
  }
  return choices[choices.length - 1]!.code;
}

/**
 * httpbin's `status_code()`: an empty HTML response, except for the codes it dresses up. For
 * those it *replaces* the headers (so 3xx/401/402/407/418 carry no content-type at all).
 */
export function statusReply(code: number): Reply {
  const replacing = (headers: Array<[string, string]>, body = ''): Reply => ({
    status: code,
    headers,
    body: Buffer.from(body, 'utf8'),
  });
  switch (code) {
    case 301:
    case 302:
    case 303:
    case 305:
    case 307:
      return replacing([['location', '/redirect/1']]);
    case 304:
      return replacing([]); // werkzeug strips entity headers such as Content-Type from a 304
    case 401:
      return replacing([['www-authenticate', 'Basic realm="Fake Realm"']]);
    case 402:
      return replacing([['x-more-info', 'http://vimeo.com/22053820']], 'Fuck you, pay me!');
    case 406:
      return replacing([['content-type', 'application/json']], NOT_ACCEPTABLE_BODY);
    case 407:
      return replacing([['proxy-authenticate', 'Basic realm="Fake Realm"']]);
    case 418:
      return replacing([['x-more-info', 'http://tools.ietf.org/html/rfc2324']], TEAPOT);
    default:
      return textReply('', code, HTML_UTF8);
  }
}
