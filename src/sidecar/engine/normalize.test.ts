/** Table tests for the request-target normalizer and target forms (security-rules.md §4, §11 rule 1). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_PATH_NORMALIZATION, MAX_TARGET_LENGTH, normalizeTarget, type NormalizationMode, type PathNormalization } from './normalize.js';
import { resolveTarget, validAuthority } from './target.js';

/** [raw target, normalized target, or the status it is refused with] */
const CASES: readonly (readonly [string, string | number])[] = [
  // already normal: unchanged
  ['/', '/'],
  ['/get', '/get'],
  ['/a/b/c?x=1&y=2', '/a/b/c?x=1&y=2'],
  ['/.well-known/jwks.json', '/.well-known/jwks.json'],
  ['/a/..b/c.', '/a/..b/c.'],
  ['/a/b...', '/a/b...'],
  // §4: case, `;` parameters and the trailing slash are not normalized
  ['/ADMIN', '/ADMIN'],
  ['/admin;x', '/admin;x'],
  ['/admin/', '/admin/'],
  ['/a;b=c/d', '/a;b=c/d'],
  // fragment dropped (CVE-2021-39156, CVE-2020-8595)
  ['/user/profile#section1', '/user/profile'],
  ['/protected?#x', '/protected?'],
  ['/a?x=1#frag?y', '/a?x=1'],
  ['/#', '/'],
  // unreserved escapes decoded once (RFC 3986 §6.2.2.2); others kept, hex upper-cased (§6.2.2.1)
  ['/%61dmin', '/admin'],
  ['/%41%5a%61%7A%30%39%2D%2E%5F%7E', '/AZaz09-._~'],
  ['/a%20b', '/a%20b'],
  ['/a%3bb', '/a%3Bb'],
  ['/a%25', '/a%25'],
  ['/%252F', '/%252F'],
  ['/%2561dmin', '/%2561dmin'],
  ['/caf%c3%a9', '/caf%C3%A9'],
  // the query is kept byte for byte
  ['/%61?q=%61%2F..//x', '/a?q=%61%2F..//x'],
  ['//a?b=//c', '/a?b=//c'],
  ['/a?', '/a?'],
  // `%2F`/`%5C` decoded (DECODE_AND_MERGE_SLASHES), `\` → `/` (CVE-2021-31920)
  ['/admin%2Fsecret', '/admin/secret'],
  ['/admin%2fsecret', '/admin/secret'],
  ['/%2Fadmin/x', '/admin/x'],
  ['/%2F%2Fget', '/get'],
  ['/a%5Cb', '/a/b'],
  ['/a%5cb', '/a/b'],
  ['/a\\b', '/a/b'],
  ['/\\admin', '/admin'],
  // dot segments (RFC 3986 §5.2.4), never above the root (CVE-2019-9901)
  ['/info/../private', '/private'],
  ['/x/../admin', '/admin'],
  ['/a/./b', '/a/b'],
  ['/a/b/..', '/a/'],
  ['/a/b/.', '/a/b/'],
  ['/a/.', '/a/'],
  ['/..', '/'],
  ['/../..', '/'],
  ['/../../etc/passwd', '/etc/passwd'],
  ['/a/b/../../../c', '/c'],
  ['/.', '/'],
  ['/./', '/'],
  ['/a/..?x=1', '/?x=1'],
  ['/a/.#f', '/a/'],
  ['/%2e%2e/admin', '/admin'],
  ['/%2E/admin', '/admin'],
  ['/a/%2e%2E/admin', '/admin'],
  ['/admin/..%2Fother', '/other'],
  ['/x/..%2fadmin', '/admin'],
  ['/x/..\\admin', '/admin'],
  ['/a/.../b', '/a/.../b'],
  // `..;` and `.;` are dot segments (istio/istio#27409: Tomcat/Jetty serve `/..;/` as `/../`)
  ['/v1/..;/internal/x', '/internal/x'],
  ['/v1/..;jsessionid=1/internal', '/internal'],
  ['/a/.;x/b', '/a/b'],
  ['/a/..%3B/b', '/a/..%3B/b'],
  // merged slashes, after dot removal (Istio's order)
  ['//admin', '/admin'],
  ['///get', '/get'],
  ['//admin/x', '/admin/x'],
  ['/a//b', '/a/b'],
  ['/a//', '/a/'],
  ['//', '/'],
  ['/a//../b', '/a/b'],
  ['/a/.//../b', '/a/b'],
  // refused: %00 (Istio), invalid escapes, control characters, not origin-form
  ['/%00', 400],
  ['/a%00b', 400],
  ['/a%0', 400],
  ['/a%', 400],
  ['/a%zz', 400],
  ['/a%g1', 400],
  ['/a\u0000b', 400],
  ['/a\u0001b', 400],
  ['/a\u007fb', 400],
  ['/a b', 400],
  ['/a\tb', 400],
  ['/caf\u00e9', 400],
  ['/a?x=\u0001', 400],
  ['/a#\u0001', 400],
  ['', 400],
  ['a/b', 400],
  ['*', 400],
  ['http://h/a', 400],
  ['/' + 'a'.repeat(MAX_TARGET_LENGTH), 414],
];

describe('normalizeTarget (security-rules.md §4, §11 rule 1)', () => {
  for (const [raw, want] of CASES) {
    it(`${JSON.stringify(raw.length > 60 ? raw.slice(0, 20) + '…' : raw)} → ${want}`, () => {
      const got = normalizeTarget(raw);
      if (typeof want === 'number') {
        assert.equal(typeof got, 'object', `expected a refusal, got ${JSON.stringify(got)}`);
        assert.equal((got as { status: number }).status, want);
      } else assert.equal(got, want);
    });
  }

  it('is idempotent on every accepted case', () => {
    for (const [raw, want] of CASES) {
      if (typeof want !== 'string') continue;
      assert.equal(normalizeTarget(want), want, raw);
    }
  });

  it('returns the very same string for an already normal target', () => {
    const t = '/api/v1/items/42?limit=10';
    assert.equal(normalizeTarget(t), t);
  });

  it('can refuse encoded slashes instead of decoding them', () => {
    const reject = { ...DEFAULT_PATH_NORMALIZATION, rejectEscapedSlashes: true };
    assert.equal((normalizeTarget('/a%2Fb', reject) as { status: number }).status, 400);
    assert.equal((normalizeTarget('/a%5cb', reject) as { status: number }).status, 400);
    assert.equal(normalizeTarget('/a%2561', reject), '/a%2561');
  });

  it('keeps a target of exactly the maximum length', () => {
    const t = '/' + 'a'.repeat(MAX_TARGET_LENGTH - 1);
    assert.equal(normalizeTarget(t), t);
  });
});

describe('resolveTarget: forms per listener (RFC 9112 §3.2, security-rules.md §5)', () => {
  const ok = (method: string, url: string, host: string | undefined, proxy: boolean, norm?: PathNormalization): { path: string; authority: string } => {
    const r = resolveTarget(method, url, host, proxy, norm);
    assert.ok(!('status' in r), `${method} ${url}: ${JSON.stringify(r)}`);
    return r as { path: string; authority: string };
  };
  const refused = (method: string, url: string, host: string | undefined, proxy: boolean): number => {
    const r = resolveTarget(method, url, host, proxy);
    assert.ok('status' in r, `${method} ${url} should be refused, got ${JSON.stringify(r)}`);
    return (r as { status: number }).status;
  };

  it('normalizes origin-form and lower-cases the Host', () => {
    assert.deepEqual(ok('GET', '/x/../a', 'Echo.Demo:8080', false), { path: '/a', authority: 'echo.demo:8080' });
  });

  it('accepts asterisk-form only for OPTIONS', () => {
    assert.deepEqual(ok('OPTIONS', '*', 'a', false), { path: '*', authority: 'a' });
    assert.equal(refused('GET', '*', 'a', false), 400);
    assert.equal(refused('POST', '*', 'a', true), 400);
  });

  it('accepts absolute-form on an inbound listener (RFC 9112 §3.2.2): the target authority, canonical, over Host', () => {
    assert.deepEqual(ok('GET', 'http://a/x', 'a', false), { path: '/x', authority: 'a' });
    assert.deepEqual(ok('GET', 'http://Echo.Demo.:8080/a/../b', 'other', false), { path: '/b', authority: 'echo.demo:8080' });
    assert.deepEqual(ok('GET', 'HTTPS://echo.demo/x?y', 'echo.demo', false), { path: '/x?y', authority: 'echo.demo' });
    assert.deepEqual(ok('GET', 'http://echo.demo', undefined, false), { path: '/', authority: 'echo.demo' });
    assert.equal(refused('GET', 'ftp://a/x', 'a', false), 400);
    assert.equal(refused('GET', 'http://u@a/x', 'a', false), 400);
    assert.equal(refused('GET', 'http://a..b/x', 'a', false), 400);
  });

  it('normalizes with the MeshConfig mode it is given', () => {
    const base = { mode: 'BASE', lowerCase: false, stripParameters: false } as const;
    assert.deepEqual(ok('GET', '/a//b/%2F', 'h', false, base), { path: '/a//b/%2F', authority: 'h' });
    assert.deepEqual(ok('GET', 'http://h/A;x', 'h', false, { ...base, lowerCase: true, stripParameters: true }), { path: '/a', authority: 'h' });
  });

  it('takes the absolute-form authority on the proxy, normalized, over Host', () => {
    assert.deepEqual(ok('GET', 'http://Svc.Demo:8080/a/../b?x=%2F', 'svc.demo:8080', true), { path: '/b?x=%2F', authority: 'svc.demo:8080' });
    assert.deepEqual(ok('GET', 'http://other.demo/abs', 'echo.demo', true), { path: '/abs', authority: 'other.demo' });
    assert.deepEqual(ok('GET', 'HTTP://h', 'h', true), { path: '/', authority: 'h' });
    assert.deepEqual(ok('GET', 'http://h?x=1', 'h', true), { path: '/?x=1', authority: 'h' });
    assert.deepEqual(ok('GET', 'http://h#f', 'h', true), { path: '/', authority: 'h' });
    assert.deepEqual(ok('OPTIONS', 'http://h:81', 'h:81', true), { path: '*', authority: 'h:81' });
    assert.deepEqual(ok('GET', 'http://h//admin', 'h', true), { path: '/admin', authority: 'h' });
  });

  it('refuses absolute-form with userinfo, another scheme, a bad authority or a bad path', () => {
    assert.equal(refused('GET', 'http://u@h/x', 'h', true), 400);
    assert.equal(refused('GET', 'http://u:p@h/x', 'h', true), 400);
    assert.equal(refused('GET', 'https://h/x', 'h', true), 400);
    assert.equal(refused('GET', 'ftp://h/x', 'h', true), 400);
    assert.equal(refused('GET', 'http:///x', 'h', true), 400);
    assert.equal(refused('GET', 'http://h:99999/x', 'h', true), 400);
    assert.equal(refused('GET', 'http://h/%00', 'h', true), 400);
  });

  it('accepts CONNECT only with an authority-form host:port', () => {
    assert.deepEqual(ok('CONNECT', 'Echo.Demo:443', undefined, true), { path: 'echo.demo:443', authority: 'echo.demo:443' });
    assert.deepEqual(ok('CONNECT', '[::1]:443', '[::1]:443', true), { path: '[::1]:443', authority: '[::1]:443' });
    assert.equal(refused('CONNECT', '/x', 'h:443', true), 400);
    assert.equal(refused('CONNECT', 'h', 'h', true), 400);
    assert.equal(refused('CONNECT', 'u@h:443', 'h:443', true), 400);
  });

  it('refuses an invalid Host (RFC 9110 §7.2)', () => {
    for (const h of ['admin.local .evil', '', 'a b', 'a/b', 'u@h', 'h:', 'h:x', 'h:65536', 'h:1:2', 'a%2Eb', 'a,b', '[zz]', 'caf\u00e9']) {
      assert.equal(validAuthority(h), undefined, h);
      assert.equal(refused('GET', '/', h, false), 400, h);
    }
    for (const h of ['a', 'a.b.c', 'a-b_c:8080', '10.0.0.1:80', '[::1]', '[fe80::1]:8080', 'svc.ns.svc.cluster.local.']) assert.ok(validAuthority(h), h);
  });

  it('one canonical host: lower case, the trailing dot removed, empty labels refused; the port kept', () => {
    const canonical: [string, string][] = [
      ['svc.ns.', 'svc.ns'], ['SVC.Ns.', 'svc.ns'], ['svc.ns.:8080', 'svc.ns:8080'], ['Svc.NS.svc.cluster.local.:80', 'svc.ns.svc.cluster.local:80'],
      ['svc.ns:80', 'svc.ns:80'], ['[FE80::1]:8080', '[fe80::1]:8080'], ['10.0.0.1.', '10.0.0.1'],
    ];
    for (const [h, want] of canonical) {
      assert.equal(validAuthority(h), want, h);
      assert.deepEqual(ok('GET', '/', h, false), { path: '/', authority: want }, h);
    }
    assert.deepEqual(ok('GET', 'http://Svc.Ns.:8080/x', 'other', true), { path: '/x', authority: 'svc.ns:8080' });
    assert.deepEqual(ok('CONNECT', 'svc.ns.:443', undefined, true), { path: 'svc.ns:443', authority: 'svc.ns:443' });
    for (const h of ['.', '..', '.a', 'a..b', 'a..', '.:80', 'a..b:80']) {
      assert.equal(validAuthority(h), undefined, h);
      assert.equal(refused('GET', '/', h, false), 400, h);
    }
  });
});

/** Istio's four MeshConfig modes and the Tessera options (docs/request-identity.md "Path normalization"). */
describe('normalizeTarget: MeshConfig pathNormalization modes and options', () => {
  const opts = (mode: NormalizationMode, extra: Partial<PathNormalization> = {}): PathNormalization => ({ mode, lowerCase: false, stripParameters: false, ...extra });
  /** [raw, NONE, BASE, MERGE_SLASHES, DECODE_AND_MERGE_SLASHES] */
  const TABLE: readonly (readonly [string, string, string, string, string])[] = [
    ['/a/../b', '/a/../b', '/b', '/b', '/b'],
    ['/a//b', '/a//b', '/a//b', '/a/b', '/a/b'],
    ['/a%2fb', '/a%2fb', '/a%2Fb', '/a%2Fb', '/a/b'],
    ['/a%5Cb', '/a%5Cb', '/a%5Cb', '/a%5Cb', '/a/b'],
    ['/\\admin', '/\\admin', '//admin', '/admin', '/admin'],
    ['/%61dmin', '/%61dmin', '/admin', '/admin', '/admin'],
    ['/x/..%2Fadmin', '/x/..%2Fadmin', '/x/..%2Fadmin', '/x/..%2Fadmin', '/admin'],
    ['/a//../b', '/a//../b', '/a/b', '/a/b', '/a/b'],
    ['/a/./b/', '/a/./b/', '/a/b/', '/a/b/', '/a/b/'],
    ['/a/b/..', '/a/b/..', '/a/', '/a/', '/a/'],
    ['//', '//', '//', '/', '/'],
    ['/v1/..;/admin', '/v1/..;/admin', '/admin', '/admin', '/admin'],
    ['/ok?q=//..', '/ok?q=//..', '/ok?q=//..', '/ok?q=//..', '/ok?q=//..'],
  ];
  const MODES: readonly NormalizationMode[] = ['NONE', 'BASE', 'MERGE_SLASHES', 'DECODE_AND_MERGE_SLASHES'];
  for (const [raw, ...wants] of TABLE) {
    it(`${JSON.stringify(raw)} in each mode`, () => {
      MODES.forEach((m, i) => assert.equal(normalizeTarget(raw, opts(m)), wants[i], m));
    });
  }

  it('the default is DECODE_AND_MERGE_SLASHES with case and parameters kept', () => {
    assert.deepEqual({ ...DEFAULT_PATH_NORMALIZATION }, opts('DECODE_AND_MERGE_SLASHES'));
  });

  it('refuses NUL, bad escapes and control characters in every mode, and drops the fragment', () => {
    for (const m of MODES) {
      assert.equal((normalizeTarget('/a%00', opts(m)) as { status: number }).status, 400, m);
      assert.equal((normalizeTarget('/a%zz', opts(m)) as { status: number }).status, 400, m);
      assert.equal((normalizeTarget('/a\x01', opts(m)) as { status: number }).status, 400, m);
      assert.equal(normalizeTarget('/a#/../x', opts(m)), '/a', m);
    }
  });

  it('lowerCase lower-cases the path, not the query nor the hex of an escape', () => {
    const lower = opts('DECODE_AND_MERGE_SLASHES', { lowerCase: true });
    assert.equal(normalizeTarget('/ADMIN/Users?Q=X', lower), '/admin/users?Q=X');
    assert.equal(normalizeTarget('/%41dmin/caf%C3%A9', lower), '/admin/caf%C3%A9');
    assert.equal(normalizeTarget('/already/lower', lower), '/already/lower');
    assert.equal(normalizeTarget('/A', opts('NONE', { lowerCase: true })), '/a');
  });

  it('stripParameters drops ;parameters from every segment before dot segments are removed', () => {
    const strip = opts('DECODE_AND_MERGE_SLASHES', { stripParameters: true });
    assert.equal(normalizeTarget('/admin;jsessionid=1', strip), '/admin');
    assert.equal(normalizeTarget('/a;x/b;y=1/c?k=v;w', strip), '/a/b/c?k=v;w');
    assert.equal(normalizeTarget('/x/..;y/admin', strip), '/admin');
    assert.equal(normalizeTarget('/a%3Bb', strip), '/a%3Bb', 'an escaped ";" is data, not a delimiter');
    assert.equal(normalizeTarget('/ADMIN;x', opts('MERGE_SLASHES', { stripParameters: true, lowerCase: true })), '/admin');
  });

  it('stripTrailingSlash drops a trailing slash after the rest, never the root, and keeps the query', () => {
    const trim = opts('DECODE_AND_MERGE_SLASHES', { stripTrailingSlash: true });
    assert.equal(normalizeTarget('/admin/', trim), '/admin');
    assert.equal(normalizeTarget('/admin//?q=/', trim), '/admin?q=/');
    assert.equal(normalizeTarget('/a/b/..', trim), '/a');
    assert.equal(normalizeTarget('/', trim), '/');
    assert.equal(normalizeTarget('//', trim), '/');
    assert.equal(normalizeTarget('/admin;x/', opts('BASE', { stripTrailingSlash: true, stripParameters: true })), '/admin');
    assert.equal(normalizeTarget('/admin/', opts('NONE', { stripTrailingSlash: true })), '/admin');
    assert.equal(normalizeTarget('/admin/', opts('DECODE_AND_MERGE_SLASHES')), '/admin/', 'kept unless asked');
  });

  it('is idempotent in every mode with every option', () => {
    for (const m of MODES) {
      for (const extra of [{}, { lowerCase: true }, { stripParameters: true }, { lowerCase: true, stripParameters: true }, { stripTrailingSlash: true }, { stripTrailingSlash: true, stripParameters: true }]) {
        for (const [raw] of TABLE) {
          const once = normalizeTarget(raw, opts(m, extra));
          assert.equal(normalizeTarget(once as string, opts(m, extra)), once, `${m} ${JSON.stringify(extra)} ${raw}`);
        }
      }
    }
  });
});
