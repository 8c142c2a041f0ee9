// blob through compiled VCL: ENUM arguments with their defaults, STRANDS built from
// concatenations, BLOB values passed between calls, and the blob object made in vcl_init.

import { describe, expect, it } from 'vitest';
import { DEFAULT_VMOD_PATH } from '../../src/vmod/registry.ts';
import { clientTask, load, run } from '../../test/runtime/vcl-harness.ts';

const VCL = `
import blob;

sub vcl_init {
  new myblob = blob.blob(BASE64, "Zm9vYmFy");
  new yourblob = blob.blob(encoded = "666F6F", decoding = HEX);
}

sub vcl_recv {
  if (req.url == "/encode") {
    set req.http.hex = blob.encode(blob = myblob.get(), encoding = HEX);
    set req.http.b64 = yourblob.encode(BASE64);
    set req.http.upper = myblob.encode(HEX, UPPER);
    set req.http.round-trip = blob.encode(BASE64, blob = blob.decode(HEX, encoded = req.http.first + req.http.second));
    set req.http.identity = blob.encode(blob = blob.decode(HEX, encoded = "666f6f00626172"));
    set req.http.decoded = blob.transcode(encoded = req.http.path, decoding = URL);
    set req.http.encoded = blob.transcode(encoded = "foo bar", encoding = URL);
    set req.http.cased = blob.transcode(decoding = BASE64, encoding = HEX, case = UPPER, encoded = "YmF6");
    set req.http.first-bytes = blob.transcode(HEX, IDENTITY, length = 4, encoded = "666f6f");
    set req.http.len = blob.length(blob.decode(BASE64, encoded = "Zm9vYmFy"));
    set req.http.same = blob.same(myblob.get(), myblob.get());
    set req.http.equal = blob.equal(myblob.get(), blob.decode(encoded = "foobar"));
    set req.http.sub = blob.encode(blob = blob.sub(myblob.get(), 3B, 1B));
    return (synth(200));
  }
  if (req.url == "/bad") {
    set req.http.x = blob.encode(blob = blob.decode(BASE64, encoded = "A"));
  }
  if (req.url == "/case") {
    set req.http.x = blob.encode(IDENTITY, UPPER, blob.decode(encoded = "x"));
  }
}
`;

describe('blob in VCL', () => {
  it('decodes, encodes, transcodes and compares', async () => {
    const vcl = await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
    const t = clientTask({ url: '/encode', headers: [['first', 'abc'], ['second', 'def0'], ['path', '/a%20b%2Fc']] });
    expect(run(vcl, 'vcl_recv', t)).toMatchObject({ action: 'synth', status: 200 });
    const names = ['hex', 'b64', 'upper', 'round-trip', 'identity', 'decoded', 'encoded', 'cased', 'first-bytes', 'len', 'same', 'equal', 'sub'];
    expect(Object.fromEntries(names.map((n) => [n, t.req!.get(n)]))).toEqual({
      hex: '666f6f626172',
      b64: 'Zm9v',
      upper: '666F6F626172',
      'round-trip': 'Crze8A==',
      identity: 'foo',
      decoded: '/a b/c',
      encoded: 'foo%20bar',
      cased: '62617A',
      'first-bytes': 'fo',
      len: '6',
      same: 'true',
      equal: 'true',
      sub: 'oob',
    });
  });

  it('fails the task with the VMOD error', async () => {
    const vcl = await load(VCL, { vmodPath: DEFAULT_VMOD_PATH });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/bad' }))).toMatchObject({
      action: 'fail',
      message: 'vmod blob error: cannot decode, illegal encoding beginning with "A"',
    });
    expect(run(vcl, 'vcl_recv', clientTask({ url: '/case' }))).toMatchObject({
      action: 'fail',
      message: 'vmod blob error: case UPPER is illegal with encoding IDENTITY',
    });
  });

  it('refuses to load when a blob object cannot decode', async () => {
    const bad = `import blob;\nsub vcl_init { new b = blob.blob(HEX, "xyz"); }\n`;
    await expect(load(bad, { vmodPath: DEFAULT_VMOD_PATH })).rejects.toThrow(
      /vmod blob error: cannot create blob b, illegal encoding beginning with "xyz"/,
    );
  });
});
