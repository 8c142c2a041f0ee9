// The ESI parser: the instruction list it stores, and the errors it reports as Varnish words them.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type EsiFeatures, type EsiInstruction, EsiParser, parseEsi, resolveInclude } from '../../src/filters/esi-parse.ts';

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

describe('EsiParser fed in chunks', () => {
  /** The instructions as text, adjacent verbatim parts joined, and the errors, fed in `cuts`. */
  function fed(text: string, cuts: number[], features: Partial<EsiFeatures> = {}) {
    const errors: string[] = [];
    const p = new EsiParser({ ...NONE, ...features }, { error: (m) => errors.push(m), warning: (m) => errors.push(m) });
    const bytes = Buffer.from(text, 'latin1');
    const parts: EsiInstruction[] = [];
    let settled = 0;
    let from = 0;
    for (const at of [...cuts.filter((c) => c > 0 && c < bytes.length).sort((a, b) => a - b), bytes.length]) {
      parts.push(...p.feed(bytes.subarray(from, at)));
      // Nothing is settled past what arrived, and settling never goes back.
      expect(p.settled).toBeLessThanOrEqual(at);
      expect(p.settled).toBeGreaterThanOrEqual(settled);
      settled = p.settled;
      for (const ins of parts) if (ins.kind === 'verbatim') expect(ins.end).toBeLessThanOrEqual(p.settled);
      from = at;
    }
    parts.push(...p.end());
    const out: (string | { src: string })[] = [];
    for (const ins of parts) {
      if (ins.kind === 'include') out.push({ src: ins.src });
      else if (typeof out.at(-1) === 'string') out[out.length - 1] += text.slice(ins.start, ins.end);
      else out.push(text.slice(ins.start, ins.end));
    }
    return { out: p.xml === false ? null : out, errors };
  }

  const BODY = fc.array(
    fc.constantFrom('<a>', 'text ', '<esi:include src="/i"/>', '<esi:remove>x<esi:include src="/r"/></esi:remove>', '<!--esi <b/> -->', '<!-- c -->', '<![CDATA[<esi:include src="/n"/>]]>', '<esi:comment/>', '<esi:foo/>', '<esi:include src="/u"', '</esi:remove>', ' ', '\n', '<', '-->'),
    { maxLength: 12 },
  );

  it('settles the same instructions and errors whatever the chunks', () => {
    fc.assert(
      fc.property(BODY, fc.array(fc.nat(400), { maxLength: 8 }), fc.boolean(), (pieces, cuts, noCheck) => {
        const text = pieces.join('');
        const whole = fed(text, [], { disableXmlCheck: noCheck });
        expect(fed(text, cuts, { disableXmlCheck: noCheck })).toEqual(whole);
      }),
      { numRuns: 300 },
    );
  });
});
