// The ESI parser (Varnish's VEP), run once at fetch time over the body: it turns the body into
// a list of instructions, the byte ranges delivered verbatim and the includes between them, and
// delivery walks that list. What it understands, as Varnish 7.1 does:
//   <esi:include src="..."/>   an include (src's XML entities decoded; onerror="continue")
//   <esi:remove> … </esi:remove>   dropped, with anything inside it
//   <esi:comment …/>           dropped
//   <!--esi … -->              the markers dropped, the inside parsed
//   <!-- … -->, <![CDATA[ … ]]>  delivered as they are, not parsed
// A body whose first non-blank byte is not '<' is not XML and is not parsed (unless the feature
// esi_disable_xml_check); a leading UTF-8 BOM is dropped with esi_remove_bom. Errors and warnings
// are reported as Varnish words them, each counted once.

export interface EsiInclude {
  readonly kind: 'include';
  /** The URL to fetch: a path (absolute, or relative to the parent's) or http://host/path. */
  readonly src: string;
  /** The host of an http:// (or, with esi_ignore_https, https://) src; null keeps the parent's. */
  readonly host: string | null;
  /** onerror="continue" (honoured with feature esi_include_onerror). */
  readonly continueOnError: boolean;
}

/** Bytes [start, end) of the stored (uncompressed) body, delivered as they are. */
export interface EsiVerbatim {
  readonly kind: 'verbatim';
  readonly start: number;
  readonly end: number;
  /**
   * In a body stored as gzip by the esi_gzip filter: the range's own deflate bytes [start, end)
   * of the stored body and the CRC-32 of the plain range, to send them to a gzip client as is.
   */
  readonly gz?: { readonly start: number; readonly end: number; readonly crc: number };
}

export type EsiInstruction = EsiVerbatim | EsiInclude;

export interface EsiFeatures {
  readonly disableXmlCheck: boolean;
  readonly ignoreOtherElements: boolean;
  readonly removeBom: boolean;
  readonly ignoreHttps: boolean;
}

export interface EsiReport {
  error(message: string): void;
  warning(message: string): void;
}

const ENTITIES: Readonly<Record<string, string>> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&apos;': "'", '&quot;': '"' };

/**
 * Parses a whole body (latin1 text: one char per byte, so offsets are byte offsets). Returns
 * null when the body is not processed (not XML), else the instruction list.
 */
export function parseEsi(text: string, features: EsiFeatures, report: EsiReport): EsiInstruction[] | null {
  const p = new EsiParser(features, report);
  const parts = p.feed(Buffer.from(text, 'latin1')).concat(p.end());
  if (p.xml === false) return null;
  // Adjacent verbatim parts (a feed ends where it must wait) as one range.
  const out: EsiInstruction[] = [];
  for (const ins of parts) {
    const last = out.at(-1);
    if (ins.kind === 'verbatim' && last?.kind === 'verbatim' && last.end === ins.start) out[out.length - 1] = { kind: 'verbatim', start: last.start, end: ins.end };
    else out.push(ins);
  }
  return out;
}

/** The longest opening a '<' may start that the parser must see whole: `<![CDATA[`. */
const LONGEST_OPENING = 9;
const BOM = '\xef\xbb\xbf';

/**
 * The parser, fed the body as it arrives (Varnish's VEP is fed the same way): each feed gives
 * the instructions settled so far, cut at the end of what is known, so delivery can send a
 * page's first bytes and start its includes while the rest is still being fetched. A verbatim
 * range may come in several parts (adjacent ranges); an element, comment or CDATA section cut
 * by the end of a chunk waits for the next one. Offsets are absolute byte offsets.
 */
export class EsiParser {
  /** Whether the body is XML (processed); undefined until its first non-blank byte is seen. */
  xml: boolean | undefined;
  /** Every byte before this offset is decided: delivered, skipped or an include. */
  settled = 0;
  readonly #features: EsiFeatures;
  readonly #report: EsiReport;
  /** The text not yet consumed, from absolute offset #base. */
  #text = '';
  #base = 0;
  #pos = 0;
  #verbatimFrom = 0;
  /** Inside <esi:remove>: nothing is delivered. */
  #removing = false;
  /** Inside <!--esi: its closing --> is dropped. */
  #inEsiComment = false;
  #out: EsiInstruction[] = [];

  constructor(features: EsiFeatures, report: EsiReport) {
    this.#features = features;
    this.#report = report;
    if (features.disableXmlCheck && !features.removeBom) this.xml = true;
  }

  /** Bytes that arrived; returns the instructions they settled. */
  feed(chunk: Buffer): EsiInstruction[] {
    this.#text += chunk.toString('latin1');
    return this.#run(false);
  }

  /** The body ended: settles the rest (an element left open is an error, as in Varnish). */
  end(): EsiInstruction[] {
    return this.#run(true);
  }

  get #length(): number {
    return this.#base + this.#text.length;
  }

  #run(final: boolean): EsiInstruction[] {
    if (this.xml === undefined) this.#decide(final);
    if (this.xml === false) {
      this.settled = this.#length;
      return [];
    }
    if (this.xml === undefined) return [];
    this.#scan(final);
    if (final && this.#removing) this.#report.error(`after ${this.#length} ESI 1.0 <esi:remove> not closed`);
    // What is known is settled: a verbatim range up to it goes now.
    const upTo = final ? this.#length : this.#pos;
    this.#keep(upTo);
    this.settled = Math.max(upTo, this.#verbatimFrom);
    if (!this.#removing) this.#verbatimFrom = this.settled;
    // Text before what the scan may still look at is not needed again.
    const drop = Math.min(this.#pos, this.#verbatimFrom) - this.#base;
    if (drop > 65536) {
      this.#text = this.#text.slice(drop);
      this.#base += drop;
    }
    const out = this.#out;
    this.#out = [];
    return out;
  }

  /** The XML check (and a leading BOM) once there are enough bytes to tell. */
  #decide(final: boolean): void {
    const t = this.#text;
    if (this.#features.removeBom) {
      if (!final && t.length < 3 && BOM.startsWith(t)) return;
      if (t.startsWith(BOM)) this.#pos = this.#verbatimFrom = 3;
    }
    if (this.#features.disableXmlCheck) {
      this.xml = true;
      return;
    }
    const first = /\S/.exec(t.slice(this.#pos, this.#pos + 4096));
    if (first === null && !final && t.length - this.#pos < 4096) return;
    this.xml = first !== null && first[0] === '<';
  }

  #keep(to: number): void {
    if (!this.#removing && to > this.#verbatimFrom) this.#out.push({ kind: 'verbatim', start: this.#verbatimFrom, end: to });
  }

  #skip(from: number, to: number): void {
    this.#keep(from);
    this.#verbatimFrom = to;
  }

  /** Index in #text of the first `needle` at or after absolute offset `from`, as an absolute offset. */
  #find(needle: string, from: number): number {
    const i = this.#text.indexOf(needle, from - this.#base);
    return i < 0 ? -1 : i + this.#base;
  }

  #startsWith(s: string, at: number): boolean {
    return this.#text.startsWith(s, at - this.#base);
  }

  #scan(final: boolean): void {
    const report = this.#report;
    const length = this.#length;
    while (this.#pos < length) {
      const pos = this.#pos;
      const lt = this.#find('<', pos);
      const endComment = this.#inEsiComment ? this.#find('-->', pos) : -1;
      if (endComment >= 0 && (lt < 0 || endComment < lt)) {
        this.#skip(endComment, endComment + 3);
        this.#inEsiComment = false;
        this.#pos = endComment + 3;
        continue;
      }
      if (lt < 0) {
        // Plain text to the end: settled, but for what may be the start of a cut `-->`.
        if (!final) this.#pos = this.#inEsiComment ? Math.max(pos, length - 2) : length;
        return;
      }
      // An opening cut by the end of the chunk: wait for the rest.
      if (!final && length - lt < LONGEST_OPENING) {
        this.#pos = lt;
        return;
      }
      if (this.#startsWith('<!--esi', lt)) {
        if (this.#removing) report.error(`after ${lt} ESI 1.0 Nested <!--esi element in <esi:remove>`);
        else if (this.#inEsiComment) report.error(`after ${lt} ESI 1.0 Nested <!--esi element in <!--esi`);
        this.#skip(lt, lt + 7);
        this.#inEsiComment = true;
        this.#pos = lt + 7;
        continue;
      }
      const section = this.#startsWith('<!--', lt) ? ['-->', 4] : this.#startsWith('<![CDATA[', lt) ? [']]>', 9] : null;
      if (section !== null) {
        // Delivered as it is, not parsed.
        const end = this.#find(section[0] as string, lt + (section[1] as number));
        if (end < 0 && !final) {
          this.#pos = lt;
          return;
        }
        this.#pos = end < 0 ? length : end + 3;
        continue;
      }
      const closing = this.#startsWith('</esi:', lt);
      if (!closing && !this.#startsWith('<esi:', lt)) {
        this.#pos = lt + 1;
        continue;
      }
      const gt = this.#find('>', lt);
      if (gt < 0) {
        if (!final) {
          this.#pos = lt;
          return;
        }
        // The element runs off the end of the body.
        report.error(`after ${lt} ESI 1.0 element not closed`);
        this.#skip(lt, length);
        this.#pos = length;
        return;
      }
      this.#pos = gt + 1;
      this.#element(this.#text.slice(lt - this.#base, gt + 1 - this.#base), lt, closing);
    }
  }

  /** One esi: element, `tag` from its '<' at `lt` to its '>' (this.#pos is just past it). */
  #element(tag: string, lt: number, closing: boolean): void {
    const report = this.#report;
    const pos = this.#pos;
    const name = /^<\/?esi:([A-Za-z0-9_-]*)/.exec(tag)![1];
    const empty = tag.endsWith('/>');
    switch (name) {
      case 'remove':
        if (closing) {
          if (!this.#removing) report.error(`after ${pos} ESI 1.0 </esi:remove> not in <esi:remove>`);
          this.#skip(lt, pos);
          this.#removing = false;
        } else if (empty) {
          this.#skip(lt, pos);
        } else {
          if (this.#removing) report.error(`after ${pos} ESI 1.0 <esi:remove> already open`);
          this.#skip(lt, pos);
          this.#removing = true;
        }
        return;
      case 'comment':
        if (closing) report.error(`after ${pos} ESI 1.0 </esi:comment> illegal end-tag`);
        else if (!empty) report.error(`after ${pos} ESI 1.0 <esi:comment> needs final '/'`);
        this.#skip(lt, pos);
        return;
      case 'include': {
        if (closing) {
          report.error(`after ${pos} ESI 1.0 </esi:include> illegal end-tag`);
          this.#skip(lt, pos);
          return;
        }
        this.#skip(lt, pos);
        if (this.#removing) {
          report.error(`after ${pos} ESI 1.0 <esi:include> element nested in <esi:remove>`);
          return;
        }
        if (!empty) report.error(`after ${pos} ESI 1.0 <esi:include> lacks final '/'`);
        const inc = includeOf(tag, this.#features, report);
        if (inc !== null) this.#out.push(inc);
        return;
      }
      default:
        // Not ours: delivered as it is.
        if (this.#features.ignoreOtherElements) return;
        report.error(`after ${pos} ESI 1.0 <esi:${name}> element unknown`);
        this.#skip(lt, pos);
    }
  }
}

function attribute(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s/>]+))`, 'i').exec(tag);
  if (m === null) return null;
  return m[1] ?? m[2] ?? m[3] ?? '';
}

function includeOf(tag: string, features: EsiFeatures, report: EsiReport): EsiInclude | null {
  const raw = attribute(tag, 'src');
  if (raw === null) {
    report.error('ESI 1.0 <esi:include> lacks src attr');
    return null;
  }
  const src = raw.replace(/&(?:amp|lt|gt|apos|quot);/g, (e) => ENTITIES[e]);
  const continueOnError = attribute(tag, 'onerror') === 'continue';
  let scheme = /^http:\/\//i.exec(src);
  if (scheme === null && /^https:\/\//i.test(src)) {
    if (!features.ignoreHttps) {
      report.warning('ESI 1.0 <esi:include> with https:// ignored');
      return null;
    }
    scheme = /^https:\/\//i.exec(src);
  }
  if (scheme !== null) {
    const rest = src.slice(scheme[0].length);
    const slash = rest.indexOf('/');
    if (slash <= 0) {
      report.error('ESI 1.0 <esi:include> invalid src= URL');
      return null;
    }
    return { kind: 'include', src: rest.slice(slash), host: rest.slice(0, slash), continueOnError };
  }
  return { kind: 'include', src, host: null, continueOnError };
}

/** An include's URL seen from its parent's: absolute paths as they are, others beside it. */
export function resolveInclude(src: string, parentUrl: string): string {
  if (src.startsWith('/')) return src;
  const slash = parentUrl.lastIndexOf('/');
  return `${slash < 0 ? '/' : parentUrl.slice(0, slash + 1)}${src}`;
}
