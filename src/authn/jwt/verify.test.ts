/** Attack classes and verifier rules of the reference (§6, §11 rule 6) against real keys made here. */

import assert from 'node:assert/strict';
import { constants, createHash, privateEncrypt, sign } from 'node:crypto';
import { describe, it } from 'node:test';
import { compileJwks } from './key-set.js';
import { compileJwtPolicy, type JwtPolicyOptions } from './policy.js';
import { ISSUER, NOW, NOW_S, b64u, ecPair, edPair, hmacSecret, makeToken, octJwk, publicJwk, rawSign, rsaPair } from './test-support.js';
import { verifyJwt } from './verify.js';
import type { JwtFailureCode } from './errors.js';

const rsa = rsaPair();
const rsaPinned = rsaPair();
const ec256 = ecPair('P-256');
const ec384 = ecPair('P-384');
const ec521 = ecPair('P-521');
const ed = edPair();
const hs = hmacSecret(32);
const hs64 = hmacSecret(64);
const attacker = rsaPair();

const keys = compileJwks({
  keys: [
    publicJwk(rsa, { kid: 'rsa-1' }),
    publicJwk(rsaPinned, { kid: 'rsa-pinned', alg: 'RS256', use: 'sig' }),
    publicJwk(ec256, { kid: 'ec-256' }),
    publicJwk(ec384, { kid: 'ec-384' }),
    publicJwk(ec521, { kid: 'ec-521' }),
    publicJwk(ed, { kid: 'ed' }),
    octJwk(hs, { kid: 'hs' }),
    octJwk(hs64, { kid: 'hs64' }),
  ],
});

function policy(extra: Partial<JwtPolicyOptions> = {}) {
  return compileJwtPolicy({ issuer: ISSUER, audiences: ['todos'], keys, cache: false, ...extra });
}
const strict = policy();

function claims(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISSUER, sub: 'user-1', aud: 'todos', iat: NOW_S, exp: NOW_S + 300, ...extra };
}
const rs = (payload: Record<string, unknown> | string = claims(), header: Record<string, unknown> = {}) =>
  makeToken({ alg: 'RS256', kid: 'rsa-1', ...header }, payload, rsa.privateKey, 'RS256');

function accepts(token: string, p = strict, now = NOW): void {
  const r = verifyJwt(token, p, now);
  assert.equal(r.ok, true, r.ok ? '' : `${r.code}: ${r.message}`);
}
/** Rejects with `code`, and the message carries no part of the token (nor the kid). */
function rejects(token: string, code: JwtFailureCode, p = strict, now = NOW): void {
  const r = verifyJwt(token, p, now);
  assert.equal(r.ok, false, 'expected a rejection');
  if (r.ok) return;
  assert.equal(r.code, code, r.message);
  for (const part of token.split('.')) if (part.length >= 4) assert.ok(!r.message.includes(part), 'message echoes the token');
  assert.ok(!r.message.includes('\r') && !r.message.includes('\n'));
}

describe('accepted controls', () => {
  it('every algorithm with its own key', () => {
    for (const alg of ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']) accepts(makeToken({ alg, kid: 'rsa-1' }, claims(), rsa.privateKey));
    accepts(makeToken({ alg: 'ES256', kid: 'ec-256' }, claims(), ec256.privateKey));
    accepts(makeToken({ alg: 'ES384', kid: 'ec-384' }, claims(), ec384.privateKey));
    accepts(makeToken({ alg: 'ES512', kid: 'ec-521' }, claims(), ec521.privateKey));
    accepts(makeToken({ alg: 'EdDSA', kid: 'ed' }, claims(), ed.privateKey));
    accepts(makeToken({ alg: 'Ed25519', kid: 'ed' }, claims(), ed.privateKey));
    accepts(makeToken({ alg: 'HS256', kid: 'hs' }, claims(), hs));
    accepts(makeToken({ alg: 'HS512', kid: 'hs64' }, claims(), hs64));
  });
  it('no kid: keys that verify the alg are tried', () => {
    accepts(makeToken({ alg: 'RS256' }, claims(), rsa.privateKey));
    accepts(makeToken({ alg: 'ES256', typ: 'JWT' }, claims(), ec256.privateKey));
  });
  it('no kid: at most MAX_KEYS_WITHOUT_KID keys are tried', () => {
    const pairs = [rsaPair(), rsaPair(), rsaPair(), rsaPair(), rsaPair()];
    const p = policy({ keys: compileJwks({ keys: pairs.map((k) => publicJwk(k)) }) });
    accepts(makeToken({ alg: 'RS256' }, claims(), pairs[3]!.privateKey), p);
    rejects(makeToken({ alg: 'RS256' }, claims(), pairs[4]!.privateKey), 'JWT_BAD_SIGNATURE', p);
  });
  it('aud as a list with one configured value; no audiences configured skips aud', () => {
    accepts(rs(claims({ aud: ['other', 'todos'] })));
    accepts(rs(claims({ aud: 'anything' })), policy({ audiences: [] }));
    accepts(rs(claims({ aud: undefined })), policy({ audiences: [] }));
  });
  it('a token without exp passes unless required (Istio default, reference §2)', () => {
    accepts(rs(claims({ exp: undefined })));
    rejects(rs(claims({ exp: undefined })), 'JWT_MISSING_EXP', policy({ requireExpiration: true }));
  });
  it('returns header, claims and the payload segment, frozen when cached', () => {
    const t = rs(claims({ roles: ['admin'] }));
    const r = verifyJwt(t, policy({ cache: {} }), NOW);
    assert.ok(r.ok);
    assert.equal(r.alg, 'RS256');
    assert.equal(r.kid, 'rsa-1');
    assert.equal(r.claims.sub, 'user-1');
    assert.equal(r.payloadSegment, t.split('.')[1]);
    assert.ok(Object.isFrozen(r.claims) && Object.isFrozen(r.claims['roles']));
  });
});

describe('alg none and algorithm confusion', () => {
  it('none in any case, with or without a signature', () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const unsigned = `${b64u({ alg })}.${b64u(claims())}.`;
      // Named for what it is: the header is judged before the (empty) signature segment.
      rejects(unsigned, 'JWT_ALG_NOT_ALLOWED');
      rejects(`${unsigned}${b64u(rawSign('RS256', rsa.privateKey, 'x'))}`, 'JWT_ALG_NOT_ALLOWED');
    }
  });
  it('HS256 signed with the RSA public key (SPKI PEM, PKCS#1 PEM, JWK JSON) as the secret', () => {
    const secrets = [
      Buffer.from(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string),
      Buffer.from(rsa.publicKey.export({ type: 'pkcs1', format: 'pem' }) as string),
      Buffer.from(JSON.stringify(publicJwk(rsa, { kid: 'rsa-1' }))),
      Buffer.from(ec256.publicKey.export({ type: 'spki', format: 'pem' }) as string),
    ];
    for (const secret of secrets) {
      rejects(makeToken({ alg: 'HS256', kid: 'rsa-1' }, claims(), secret), 'JWT_ALG_NOT_ALLOWED');
      rejects(makeToken({ alg: 'HS256', kid: 'ec-256' }, claims(), secret), 'JWT_ALG_NOT_ALLOWED');
      // Without a kid only the configured secrets are tried, and the signature fails.
      rejects(makeToken({ alg: 'HS256' }, claims(), secret), 'JWT_BAD_SIGNATURE');
    }
    const rsaOnly = policy({ keys: compileJwks({ keys: [publicJwk(rsa)] }) });
    rejects(makeToken({ alg: 'HS256' }, claims(), Buffer.from(rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string)), 'JWT_ALG_NOT_ALLOWED', rsaOnly);
  });
  it('a JWK alg pins the algorithm: PS256/RS512 with the same RSA key are refused', () => {
    accepts(makeToken({ alg: 'RS256', kid: 'rsa-pinned' }, claims(), rsaPinned.privateKey));
    rejects(makeToken({ alg: 'PS256', kid: 'rsa-pinned' }, claims(), rsaPinned.privateKey), 'JWT_ALG_NOT_ALLOWED');
    rejects(makeToken({ alg: 'RS512', kid: 'rsa-pinned' }, claims(), rsaPinned.privateKey), 'JWT_ALG_NOT_ALLOWED');
  });
  it('kid of a key of another type: no fallback', () => {
    rejects(makeToken({ alg: 'RS256', kid: 'ec-256' }, claims(), rsa.privateKey), 'JWT_ALG_NOT_ALLOWED');
    rejects(makeToken({ alg: 'ES256', kid: 'ec-384' }, claims(), ec384.privateKey), 'JWT_ALG_NOT_ALLOWED');
    rejects(makeToken({ alg: 'ES384', kid: 'ec-256' }, claims(), ec256.privateKey), 'JWT_ALG_NOT_ALLOWED');
  });
  it('a P-384 signature labelled ES256 (wrong curve) fails', () => {
    rejects(makeToken({ alg: 'ES256' }, claims(), ec384.privateKey, 'ES384'), 'JWT_BAD_SIGNATURE');
  });
  it('unknown and non-string algs; the policy allow-list narrows further', () => {
    rejects(rs(claims(), { alg: 'RS1' }), 'JWT_ALG_NOT_ALLOWED');
    rejects(rs(claims(), { alg: 'toString' }), 'JWT_ALG_NOT_ALLOWED');
    rejects(rs(claims(), { alg: '__proto__' }), 'JWT_ALG_NOT_ALLOWED');
    rejects(rs(claims(), { alg: 256 }), 'JWT_BAD_HEADER');
    rejects(makeToken({ kid: 'rsa-1' }, claims(), rsa.privateKey, 'RS256'), 'JWT_BAD_HEADER');
    const onlyRs = policy({ algorithms: ['RS256'] });
    accepts(rs(), onlyRs);
    rejects(makeToken({ alg: 'ES256', kid: 'ec-256' }, claims(), ec256.privateKey), 'JWT_ALG_NOT_ALLOWED', onlyRs);
  });
});

describe('keys only from configuration', () => {
  it('unknown kid and kid injection are plain misses, never echoed', () => {
    for (const kid of ['nope', 'RSA-1', 'rsa-1 ', '../../../../dev/null', "x' OR '1'='1", 'rsa-1\r\nX-Injected: 1', '']) {
      rejects(makeToken({ alg: 'RS256', kid }, claims(), rsa.privateKey), 'JWT_KEY_NOT_FOUND');
    }
    rejects(rs(claims(), { kid: 42 }), 'JWT_BAD_HEADER');
  });
  it('jku, x5u, embedded jwk and x5c are ignored', () => {
    const evil = {
      jku: 'http://127.0.0.1:1/jwks.json',
      x5u: 'http://127.0.0.1:1/cert.pem',
      jwk: publicJwk(attacker),
      x5c: [attacker.publicKey.export({ type: 'spki', format: 'der' }).toString('base64')],
    };
    for (const [name, value] of Object.entries(evil)) {
      rejects(makeToken({ alg: 'RS256', [name]: value }, claims(), attacker.privateKey), 'JWT_BAD_SIGNATURE');
      rejects(makeToken({ alg: 'RS256', kid: 'rsa-1', [name]: value }, claims(), attacker.privateKey), 'JWT_BAD_SIGNATURE');
      // The parameter itself is harmless next to a good signature.
      accepts(makeToken({ alg: 'RS256', kid: 'rsa-1', [name]: value }, claims(), rsa.privateKey));
    }
  });
});

describe('header parameters', () => {
  it('crit of any kind, and b64', () => {
    for (const crit of [['exp'], [], ['b64'], ['x-custom'], 'b64']) rejects(rs(claims(), { crit, b64: true, 'x-custom': 1 }), 'JWT_CRIT_UNSUPPORTED');
    rejects(rs(claims(), { b64: false }), 'JWT_B64_UNSUPPORTED');
    rejects(rs(claims(), { b64: true }), 'JWT_B64_UNSUPPORTED');
  });
  it('nested JWT and JWE parameters', () => {
    rejects(rs(claims(), { cty: 'JWT' }), 'JWT_NESTED_UNSUPPORTED');
    rejects(rs(claims(), { cty: 'jwt' }), 'JWT_NESTED_UNSUPPORTED');
    rejects(rs(claims(), { enc: 'A256GCM' }), 'JWT_BAD_HEADER');
    rejects(rs(claims(), { zip: 'DEF' }), 'JWT_BAD_HEADER');
  });
  it('typ pin when configured', () => {
    const p = policy({ typ: 'at+jwt' });
    accepts(rs(claims(), { typ: 'at+JWT' }), p);
    accepts(rs(claims(), { typ: 'application/at+jwt' }), p);
    rejects(rs(claims(), { typ: 'JWT' }), 'JWT_TYP_MISMATCH', p);
    rejects(rs(), 'JWT_TYP_MISMATCH', p);
    rejects(rs(claims(), { typ: 1 }), 'JWT_BAD_HEADER');
  });
});

describe('serialization', () => {
  it('exactly three segments; JWE and four segments refused', () => {
    const t = rs();
    rejects(t.split('.').slice(0, 2).join('.'), 'JWT_MALFORMED');
    rejects(`${t}.${t.split('.')[2]}`, 'JWT_MALFORMED');
    rejects(`${t.split('.')[0]}.AAAA.BBBB.CCCC.DDDD`, 'JWT_MALFORMED');
    rejects('', 'JWT_MALFORMED');
    rejects('..', 'JWT_BAD_BASE64');
    rejects('...', 'JWT_MALFORMED');
    const r = verifyJwt(42 as unknown as string, strict, NOW);
    assert.ok(!r.ok && r.code === 'JWT_MALFORMED');
  });
  it('non-ASCII look-alikes: a character whose low byte is a base64url letter never reaches the signature', () => {
    // U+0141 written as latin1 is 0x41 ('A'): the signing input bytes would be unchanged.
    const t = rs();
    const [h, p, s] = t.split('.') as [string, string, string];
    const at = p.indexOf('A');
    assert.ok(at >= 0, 'fixture payload should contain A');
    rejects(`${h}.${p.slice(0, at)}\u0141${p.slice(at + 1)}.${s}`, 'JWT_BAD_BASE64');
    const hs256 = makeToken({ alg: 'HS256', kid: 'hs' }, claims(), hs);
    const [hh, hp, hsig] = hs256.split('.') as [string, string, string];
    const a2 = hp.indexOf('A');
    rejects(`${hh}.${hp.slice(0, a2)}\u0141${hp.slice(a2 + 1)}.${hsig}`, 'JWT_BAD_BASE64');
    const sa = hsig.search(/[A-Za-z]/);
    const sigAlias = hsig.slice(0, sa) + String.fromCharCode(0x100 + hsig.charCodeAt(sa)) + hsig.slice(sa + 1);
    rejects(`${hh}.${hp}.${sigAlias}`, 'JWT_BAD_BASE64');
  });
  it('strict base64url: padding, +/, trailing bits, whitespace, newline', () => {
    const t = rs(claims({ sub: 'user-1?>' }));
    const [h, p, s] = t.split('.') as [string, string, string];
    rejects(`${h}=.${p}.${s}`, 'JWT_BAD_BASE64');
    rejects(`${h}.${p}.${s}==`, 'JWT_BAD_BASE64');
    rejects(`${h}.${p}.${s}\n`, 'JWT_BAD_BASE64');
    rejects(` ${t}`, 'JWT_BAD_BASE64');
    rejects(`${h}.${p.slice(0, 4)} ${p.slice(4)}.${s}`, 'JWT_BAD_BASE64');
    const std = (x: string) => x.replaceAll('-', '+').replaceAll('_', '/');
    assert.ok(/[-_]/.test(s + p), 'fixture should contain - or _');
    rejects(`${h}.${std(p)}.${std(s)}`, 'JWT_BAD_BASE64');
    // Non-canonical last character: decodes to the same bytes in Node, so it would alias.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(s.at(-1) as string);
    assert.equal(s.length % 4, 2, 'RS256 signature segment ends with 4 unused bits');
    const alias = s.slice(0, -1) + alphabet[last + 1];
    assert.deepEqual(Buffer.from(alias, 'base64url'), Buffer.from(s, 'base64url'));
    rejects(`${h}.${p}.${alias}`, 'JWT_BAD_BASE64');
    // one character short: not canonical base64url unless the bits it leaves over happen to be zero
    // (1 time in 16, the signature decides), then a MAC one byte short
    const short = s.slice(0, -1);
    rejects(`${h}.${p}.${short}`, Buffer.from(short, 'base64url').toString('base64url') === short ? 'JWT_BAD_SIGNATURE' : 'JWT_BAD_BASE64'); // length % 4 == 1
  });
  it('size cap before parsing, configurable', () => {
    rejects(rs(claims({ pad: 'x'.repeat(9000) })), 'JWT_TOO_LARGE');
    rejects('a'.repeat(100_000), 'JWT_TOO_LARGE');
    const t = rs();
    accepts(t, policy({ maxTokenBytes: t.length }));
    rejects(t, 'JWT_TOO_LARGE', policy({ maxTokenBytes: t.length - 1 }));
  });
  it('duplicate member names in header and payload, at any depth', () => {
    const key = rsa.privateKey;
    const c = JSON.stringify(claims()).slice(1, -1);
    rejects(makeToken('{"alg":"RS256","alg":"HS256","kid":"rsa-1"}', claims(), key, 'RS256'), 'JWT_DUPLICATE_KEY');
    rejects(makeToken('{"alg":"RS256","kid":"x","kid":"rsa-1"}', claims(), key, 'RS256'), 'JWT_DUPLICATE_KEY');
    rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{${c},"sub":"admin"}`, key), 'JWT_DUPLICATE_KEY');
    rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{"iss":"https://evil",${c}}`, key), 'JWT_DUPLICATE_KEY');
    rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{${c},"s\\u0075b":"admin"}`, key), 'JWT_DUPLICATE_KEY');
    rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{${c},"org":{"role":"viewer","role" : "admin"}}`, key), 'JWT_DUPLICATE_KEY');
    rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{${c},"l":[{"a":1,"a":2}]}`, key), 'JWT_DUPLICATE_KEY');
    // Look-alikes that are not duplicates.
    accepts(makeToken({ alg: 'RS256', kid: 'rsa-1' }, `{${c},"x":"\\"sub\\":","o":{"sub":"y"},"s":"a:b"}`, key));
  });
  it('header and payload must be JSON objects in valid UTF-8', () => {
    const key = rsa.privateKey;
    for (const payload of ['[]', '"str"', 'null', '123', '{', '{"a":1}x', '\uFEFF{}']) {
      rejects(makeToken({ alg: 'RS256', kid: 'rsa-1' }, payload, key), 'JWT_BAD_JSON');
    }
    for (const header of ['[]', '"RS256"', 'null']) {
      const h = b64u(header);
      const p = b64u(claims());
      rejects(`${h}.${p}.${b64u(rawSign('RS256', key, `${h}.${p}`))}`, 'JWT_BAD_JSON');
    }
    const h = b64u({ alg: 'RS256', kid: 'rsa-1' });
    const p = b64u(Buffer.concat([Buffer.from('{"iss":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]));
    rejects(`${h}.${p}.${b64u(rawSign('RS256', key, `${h}.${p}`))}`, 'JWT_BAD_JSON');
  });
});

describe('signatures', () => {
  it('a changed payload or header fails', () => {
    const [h, , s] = rs().split('.') as [string, string, string];
    rejects(`${h}.${b64u(claims({ sub: 'admin' }))}.${s}`, 'JWT_BAD_SIGNATURE');
    const t = makeToken({ alg: 'HS256', kid: 'hs' }, claims(), hs);
    const [, p2, s2] = t.split('.') as [string, string, string];
    rejects(`${b64u({ alg: 'HS256', kid: 'hs', typ: 'JWT' })}.${p2}.${s2}`, 'JWT_BAD_SIGNATURE');
  });
  it('ECDSA in DER form, all-zero r||s, truncated signatures', () => {
    const h = b64u({ alg: 'ES256', kid: 'ec-256' });
    const p = b64u(claims());
    const der = sign('sha256', Buffer.from(`${h}.${p}`), { key: ec256.privateKey, dsaEncoding: 'der' });
    rejects(`${h}.${p}.${b64u(der)}`, 'JWT_BAD_SIGNATURE');
    rejects(`${h}.${p}.${b64u(Buffer.alloc(64))}`, 'JWT_BAD_SIGNATURE');
    const good = rawSign('ES256', ec256.privateKey, `${h}.${p}`);
    rejects(`${h}.${p}.${b64u(good.subarray(0, 63))}`, 'JWT_BAD_SIGNATURE');
    rejects(`${h}.${p}.${b64u(Buffer.concat([good, Buffer.alloc(1)]))}`, 'JWT_BAD_SIGNATURE');
    const hr = b64u({ alg: 'RS256', kid: 'rsa-1' });
    const rsSig = rawSign('RS256', rsa.privateKey, `${hr}.${p}`);
    rejects(`${hr}.${p}.${b64u(Buffer.concat([Buffer.alloc(1), rsSig]))}`, 'JWT_BAD_SIGNATURE');
    const hh = b64u({ alg: 'HS256', kid: 'hs' });
    rejects(`${hh}.${p}.${b64u(rawSign('HS256', hs, `${hh}.${p}`).subarray(0, 16))}`, 'JWT_BAD_SIGNATURE');
  });
});

describe('RSASSA-PKCS1-v1_5: the whole encoded block is compared, never parsed', () => {
  const h = b64u({ alg: 'RS256', kid: 'rsa-1' });
  const p = b64u(claims());
  const input = `${h}.${p}`;
  const digest = createHash('sha256').update(input).digest();
  const sha256Info = Buffer.from('3031300d060960864801650304020105000420', 'hex');
  /** EM = 00 01 FF.. 00 || T, laid out as RFC 8017 §9.2 says, and signed with the raw private key. */
  const block = (t: Buffer, lead = Buffer.from([0x00, 0x01]), fill = 0xff): Buffer => {
    const em = Buffer.alloc(256, fill);
    lead.copy(em, 0);
    em[256 - t.length - 1] = 0x00;
    t.copy(em, 256 - t.length);
    return em;
  };
  const rawRsa = (em: Buffer) => privateEncrypt({ key: rsa.privateKey, padding: constants.RSA_NO_PADDING }, em);
  const withSig = (sig: Buffer) => `${input}.${b64u(sig)}`;
  it('a block built by hand exactly as EMSA-PKCS1-v1_5 encodes it verifies', () => {
    accepts(withSig(rawRsa(block(Buffer.concat([sha256Info, digest])))));
  });
  it('forgery shapes are refused: no NULL parameters, another hash, bytes after the hash, a short PS, block type 2', () => {
    const noNull = Buffer.from('302f300b0609608648016503040201' + '0420', 'hex');
    rejects(withSig(rawRsa(block(Buffer.concat([noNull, digest])))), 'JWT_BAD_SIGNATURE');
    const sha1 = Buffer.concat([Buffer.from('3021300906052b0e03021a05000414', 'hex'), createHash('sha1').update(input).digest()]);
    rejects(withSig(rawRsa(block(sha1))), 'JWT_BAD_SIGNATURE');
    const trailing = Buffer.concat([sha256Info, digest, Buffer.alloc(16, 0x41)]);
    rejects(withSig(rawRsa(block(trailing))), 'JWT_BAD_SIGNATURE');
    const garbagePs = block(Buffer.concat([sha256Info, digest]));
    garbagePs[20] = 0x00;
    rejects(withSig(rawRsa(garbagePs)), 'JWT_BAD_SIGNATURE');
    rejects(withSig(rawRsa(block(Buffer.concat([sha256Info, digest]), Buffer.from([0x00, 0x02])))), 'JWT_BAD_SIGNATURE');
    // The right block for another input does not verify this one.
    const other = createHash('sha256').update(`${input}x`).digest();
    rejects(withSig(rawRsa(block(Buffer.concat([sha256Info, other])))), 'JWT_BAD_SIGNATURE');
  });
  it('signature values at or above the modulus are refused', () => {
    const n = Buffer.from(publicJwk(rsa)['n'] as string, 'base64url');
    rejects(withSig(n), 'JWT_BAD_SIGNATURE');
    rejects(withSig(Buffer.alloc(256, 0xff)), 'JWT_BAD_SIGNATURE');
    rejects(withSig(Buffer.alloc(256, 0x00)), 'JWT_BAD_SIGNATURE');
  });
});

describe('HMAC computed from prepared key pads', () => {
  it('matches node:crypto HMAC for every HS alg and key sizes around the block size', () => {
    for (const [alg, block] of [['HS256', 64], ['HS384', 128], ['HS512', 128]] as const) {
      const min = Number(alg.slice(2)) / 8;
      for (const size of [min, block - 1, block, block + 1, 3 * block]) {
        const secret = hmacSecret(size);
        const p = policy({ keys: compileJwks({ keys: [octJwk(secret, { kid: 'k' })] }) });
        accepts(makeToken({ alg, kid: 'k' }, claims(), secret), p);
        // The same token signed with a secret one byte different is refused.
        const other = Buffer.from(secret);
        other[size - 1]! ^= 1;
        rejects(makeToken({ alg, kid: 'k' }, claims(), other), 'JWT_BAD_SIGNATURE', p);
      }
    }
  });
  it('long and short tokens alternate on one key (the prepared input grows, its view follows the length)', () => {
    const p = policy({ maxTokenBytes: 64 * 1024 });
    const short = makeToken({ alg: 'HS256', kid: 'hs' }, claims(), hs);
    const long = makeToken({ alg: 'HS256', kid: 'hs' }, claims({ pad: 'x'.repeat(20_000) }), hs);
    const forged = makeToken({ alg: 'HS256', kid: 'hs' }, claims({ pad: 'y'.repeat(20_000) }), hmacSecret(32));
    for (const t of [short, long, short, forged, long, short]) {
      if (t === forged) rejects(t, 'JWT_BAD_SIGNATURE', p);
      else accepts(t, p);
    }
  });
  it('only the canonical spelling of the MAC is accepted', () => {
    const t = makeToken({ alg: 'HS256', kid: 'hs' }, claims({ sub: 'user-1?>' }), hs);
    const [h, p, s] = t.split('.') as [string, string, string];
    accepts(t);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alias = s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1) as string) + 1];
    assert.deepEqual(Buffer.from(alias, 'base64url'), Buffer.from(s, 'base64url'));
    rejects(`${h}.${p}.${alias}`, 'JWT_BAD_BASE64');
    rejects(`${h}.${p}.${s.replaceAll('-', '+').replaceAll('_', '/')}${/[-_]/.test(s) ? '' : '+'}`, 'JWT_BAD_BASE64');
    rejects(`${h}.${p}.${s}=`, 'JWT_BAD_BASE64');
    // one character short: not canonical base64url unless the bits it leaves over happen to be zero
    // (1 time in 16, the signature decides), then a MAC one byte short
    const short = s.slice(0, -1);
    rejects(`${h}.${p}.${short}`, Buffer.from(short, 'base64url').toString('base64url') === short ? 'JWT_BAD_SIGNATURE' : 'JWT_BAD_BASE64');
    rejects(`${h}.${p}.${'A'.repeat(s.length)}`, 'JWT_BAD_SIGNATURE');
  });
});

describe('claims', () => {
  it('iss: exact string equality', () => {
    for (const iss of [`${ISSUER}/`, ISSUER.toUpperCase(), [ISSUER], 'https://evil.example', ` ${ISSUER}`, null, undefined]) {
      rejects(rs(claims({ iss })), 'JWT_ISSUER_MISMATCH');
    }
  });
  it('aud: any configured value, exact element match', () => {
    for (const aud of ['billing', ['billing'], [], 'todos.evil', 'xtodos', 'Todos', undefined]) {
      rejects(rs(claims({ aud })), 'JWT_AUDIENCE_MISMATCH');
    }
    rejects(rs(claims({ aud: ['todos', 1] })), 'JWT_CLAIM_INVALID');
    rejects(rs(claims({ aud: { todos: true } })), 'JWT_CLAIM_INVALID');
    rejects(rs(claims({ aud: 5 })), 'JWT_CLAIM_INVALID', policy({ audiences: [] }));
  });
  it('sub must be a string when present', () => {
    rejects(rs(claims({ sub: 12 })), 'JWT_CLAIM_INVALID');
  });
  it('exp: expired, and the 60 s skew boundary', () => {
    rejects(rs(claims({ exp: NOW_S - 3600 })), 'JWT_EXPIRED');
    rejects(rs(claims({ exp: NOW_S - 61 })), 'JWT_EXPIRED');
    rejects(rs(claims({ exp: NOW_S - 60 })), 'JWT_EXPIRED'); // exactly at exp + skew: RFC 7519 §4.1.4 "on or after"
    accepts(rs(claims({ exp: NOW_S - 59 })));
    accepts(rs(claims({ exp: NOW_S - 60 })), strict, NOW - 1);
    rejects(rs(claims({ exp: NOW_S - 1 })), 'JWT_EXPIRED', policy({ clockSkewSeconds: 0 }));
  });
  it('nbf in the future beyond skew', () => {
    accepts(rs(claims({ nbf: NOW_S + 60 })));
    rejects(rs(claims({ nbf: NOW_S + 61 })), 'JWT_NOT_YET_VALID');
  });
  it('iat in the future beyond skew (jose accepts it by default)', () => {
    accepts(rs(claims({ iat: NOW_S + 60 })));
    rejects(rs(claims({ iat: NOW_S + 61 })), 'JWT_ISSUED_IN_FUTURE');
    accepts(rs(claims({ iat: NOW_S + 3600 })), policy({ rejectFutureIat: false }));
  });
  it('non-numeric, null, or non-finite exp/nbf/iat', () => {
    for (const bad of ['2000000000', null, true, [1], {}]) {
      rejects(rs(claims({ exp: bad })), 'JWT_CLAIM_INVALID');
      rejects(rs(claims({ nbf: bad })), 'JWT_CLAIM_INVALID');
      rejects(rs(claims({ iat: bad })), 'JWT_CLAIM_INVALID');
    }
    const c = JSON.stringify(claims({ exp: undefined })).slice(1, -1);
    rejects(rs(`{${c},"exp":1e999}`), 'JWT_CLAIM_INVALID');
    accepts(rs(claims({ exp: NOW_S + 0.5 })));
  });
});
