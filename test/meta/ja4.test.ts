/**
 * JA4 against the worked example and the rules of FoxIO's JA4 specification.
 */
import t from 'tap';
import { createHash } from 'node:crypto';
import { parseClientHello, type ClientHello } from '../../agent/meta/hello.js';
import { ja4, ja4Alpn, ja4Parts } from '../../agent/meta/ja4.js';
import { clientHelloBody, ext, type Ext, type HelloOptions } from './builder.js';

function parse(o: HelloOptions, dtls = false): ClientHello {
  const body = clientHelloBody(o);
  const h = parseClientHello(body, 0, body.length, dtls);
  if (h === null) throw new Error('test hello did not parse');
  return h;
}

// The spec's example: ciphers and extensions in wire order, signature algorithms.
const SPEC_CIPHERS = [0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035];
const SPEC_SIGS = [0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601];
function specExtensions(sigs: readonly number[] = SPEC_SIGS): Ext[] {
  const order = [0x001b, 0x0000, 0x0033, 0x0010, 0x4469, 0x0017, 0x002d, 0x000d, 0x0005, 0x0023, 0x0012, 0x002b, 0xff01, 0x000b, 0x000a, 0x0015];
  return order.map((type): Ext => {
    if (type === 0x0000) return ext.sni('example.com');
    if (type === 0x0010) return ext.alpn(['h2', 'http/1.1']);
    if (type === 0x000d) return ext.sigAlgs(sigs);
    if (type === 0x002b) return ext.supportedVersions([0x0304, 0x0303]);
    return ext.raw(type, Buffer.from([0]));
  });
}

t.test('the specification example fingerprints to t13d1516h2_8daaf6152771_e5627efa2ab1', async (t) => {
  const h = parse({ ciphers: SPEC_CIPHERS, extensions: specExtensions() });
  t.equal(ja4('t', h), 't13d1516h2_8daaf6152771_e5627efa2ab1');
  const parts = ja4Parts('t', h);
  t.equal(parts.ciphers, '002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9');
  t.equal(
    parts.extsSigs,
    '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601',
  );
  t.equal(ja4('q', h).slice(0, 1), 'q');
});

t.test('without signature algorithms part c has no underscore (spec: 6d807ffa2a79)', async (t) => {
  const h = parse({ ciphers: SPEC_CIPHERS, extensions: specExtensions([]) });
  const parts = ja4Parts('t', h);
  t.equal(parts.extsSigs, '0005,000a,000b,000d,0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01');
  t.equal(createHash('sha256').update(parts.extsSigs).digest('hex').slice(0, 12), '6d807ffa2a79');
  t.match(ja4('t', h), /_6d807ffa2a79$/);
});

t.test('GREASE is ignored in ciphers, extensions, versions and signature algorithms', async (t) => {
  const plain = ja4('t', parse({ ciphers: SPEC_CIPHERS, extensions: specExtensions() }));
  const exts = specExtensions([0x0a0a, ...SPEC_SIGS]).map((e): Ext => (e[0] === 0x002b ? ext.supportedVersions([0x7a7a, 0x0304, 0x0303]) : e));
  const greasy = parse({
    ciphers: [0x2a2a, ...SPEC_CIPHERS, 0xfafa],
    extensions: [ext.raw(0x3a3a), ...exts, ext.raw(0xdada, Buffer.from([0]))],
  });
  t.equal(ja4('t', greasy), plain);
  // Only the exact GREASE pattern is skipped: 0x0a1a is an ordinary value.
  t.not(ja4('t', parse({ ciphers: [0x0a1a, ...SPEC_CIPHERS], extensions: specExtensions() })), plain);
});

t.test('ALPN characters follow the spec, including its hex rule', async (t) => {
  const b = (...x: number[]): Uint8Array => Uint8Array.from(x);
  t.equal(ja4Alpn(Buffer.from('h2')), 'h2');
  t.equal(ja4Alpn(Buffer.from('http/1.1')), 'h1');
  t.equal(ja4Alpn(Buffer.from('h3')), 'h3');
  t.equal(ja4Alpn(Buffer.from('x')), 'xx');
  t.equal(ja4Alpn(null), '00');
  t.equal(ja4Alpn(b()), '00');
  t.equal(ja4Alpn(b(0xab)), 'ab');
  t.equal(ja4Alpn(b(0xab, 0xcd)), 'ad');
  t.equal(ja4Alpn(b(0x30, 0xab)), '3b');
  t.equal(ja4Alpn(b(0x30, 0x31, 0xab, 0xcd)), '3d');
  t.equal(ja4Alpn(b(0x30, 0xab, 0xcd, 0x31)), '01');
  const h = parse({ ciphers: [0x1301], extensions: [ext.alpn([b(0xab, 0xcd), 'h2'])] });
  t.equal(ja4Parts('t', h).a, 't12i0101ad');
  t.same(h.alpn, ['0xabcd', 'h2']);
});

t.test('empty lists hash to twelve zeros; counts cap at 99', async (t) => {
  t.equal(ja4('t', parse({ ciphers: [], extensions: [ext.supportedVersions([0x0304])] })).split('_')[1], '000000000000');
  // Only SNI and ALPN: the sorted extension list is empty.
  const onlySniAlpn = parse({ ciphers: [0x1301], extensions: [ext.sni('a.example'), ext.alpn(['h2'])] });
  t.equal(ja4('t', onlySniAlpn), 't12d0102h2_' + createHash('sha256').update('1301').digest('hex').slice(0, 12) + '_000000000000');
  const many = parse({
    ciphers: Array.from({ length: 120 }, (_, i) => 0x0100 + i),
    extensions: Array.from({ length: 105 }, (_, i) => ext.raw(0x0100 + i)),
  });
  t.equal(ja4Parts('t', many).a, 't12i999900');
});

t.test('version: supported_versions first, else the hello version; SNI d or i', async (t) => {
  const v = (o: Partial<HelloOptions>, dtls = false): string =>
    ja4Parts(dtls ? 'd' : 't', parse({ ciphers: [0x002f], ...o }, dtls)).a;
  t.equal(v({ version: 0x0301, extensions: [] }), 't10i010000');
  t.equal(v({ version: 0x0300, noExtensions: true }), 'ts3i010000');
  t.equal(v({ version: 0x0303, extensions: [ext.supportedVersions([0x0304, 0x0303])] }), 't13i010100');
  t.equal(v({ version: 0x0303, extensions: [ext.supportedVersions([0x7f1c])] }), 't00i010100');
  t.equal(v({ version: 0xfefd, cookie: Buffer.alloc(0), extensions: [ext.sni('x.example')] }, true), 'dd2d010100');
  t.equal(v({ version: 0xfeff, cookie: Buffer.alloc(0), extensions: [] }, true), 'dd1i010000');
  // The SNI character records the extension's presence, as the spec says.
  t.equal(v({ extensions: [ext.sni('192.0.2.1')] }), 't12d010100');
});
