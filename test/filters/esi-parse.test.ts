// The ESI parser: the instruction list it stores, and the errors it reports as Varnish words them.

import { describe, expect, it } from 'vitest';
import { type EsiFeatures, parseEsi, resolveInclude } from '../../src/filters/esi-parse.ts';

const NONE: EsiFeatures = { disableXmlCheck: false, ignoreOtherElements: false, removeBom: false, ignoreHttps: false };

function parse(text: string, features: Partial<EsiFeatures> = {}) {
  const errors: string[] = [];
  const warnings: string[] = [];
  const list = parseEsi(text, { ...NONE, ...features }, { error: (m) => errors.push(m), warning: (m) => warnings.push(m) });
  const out = list?.map((i) => (i.kind === 'verbatim' ? text.slice(i.start, i.end) : { src: i.src, host: i.host, cont: i.continueOnError })) ?? null;
  return { out, errors, warnings };
}

describe('parseEsi', () => {
  it('keeps verbatim ranges around includes, removes and comments', () => {
    const { out, errors } = parse('<a><esi:include src="/x&amp;y" onerror="continue"/><esi:remove>no</esi:remove><!--esi in --><!-- <esi:include src="/no"/> --><![CDATA[<esi:include src="/no"/>]]></a>');
    expect(errors).toEqual([]);
    expect(out).toEqual(['<a>', { src: '/x&y', host: null, cont: true }, ' in ', '<!-- <esi:include src="/no"/> --><![CDATA[<esi:include src="/no"/>]]></a>']);
  });

  it('does not parse a body that is not XML unless told to', () => {
    expect(parse('plain <esi:include src="/x"/>').out).toBeNull();
    expect(parse('plain <esi:include src="/x"/>', { disableXmlCheck: true }).out).toEqual(['plain ', { src: '/x', host: null, cont: false }]);
    expect(parse('\xef\xbb\xbf<a/>', { removeBom: true }).out).toEqual(['<a/>']);
  });

  it('takes the host of http:// includes, and of https:// ones only with esi_ignore_https', () => {
    expect(parse('<esi:include src="http://h.example/p"/>').out).toEqual([{ src: '/p', host: 'h.example', cont: false }]);
    const https = parse('<esi:include src="https://h.example/p"/>');
    expect(https.out).toEqual([]);
    expect(https.warnings).toHaveLength(1);
    expect(parse('<esi:include src="https://h.example/p"/>', { ignoreHttps: true }).out).toEqual([{ src: '/p', host: 'h.example', cont: false }]);
  });

  it('reports errors as Varnish words them', () => {
    const { errors } = parse('<esi:remove><esi:include src="a"><!--esi x --></esi:remove><esi:foo/>');
    expect(errors.map((e) => e.replace(/^after \d+ /, ''))).toEqual([
      'ESI 1.0 <esi:include> element nested in <esi:remove>',
      'ESI 1.0 Nested <!--esi element in <esi:remove>',
      'ESI 1.0 <esi:foo> element unknown',
    ]);
    expect(parse('<a><esi:foo/></a>', { ignoreOtherElements: true }).out).toEqual(['<a><esi:foo/></a>']);
  });

  it('resolves relative includes beside the parent', () => {
    expect(resolveInclude('b', '/dir/a?q=1')).toBe('/dir/b');
    expect(resolveInclude('/abs', '/dir/a')).toBe('/abs');
  });
});
