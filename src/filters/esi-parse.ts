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
  let pos = 0;
  if (features.removeBom && text.startsWith('\xef\xbb\xbf')) pos = 3;
  if (!features.disableXmlCheck) {
    const first = /\S/.exec(text.slice(pos, pos + 4096));
    if (first === null || first[0] !== '<') return null;
  }
  const out: EsiInstruction[] = [];
  let verbatimFrom = pos;
  /** Inside <esi:remove>: nothing is delivered. */
  let removing = false;
  /** Inside <!--esi: its closing --> is dropped. */
  let inEsiComment = false;

  const keep = (to: number): void => {
    if (!removing && to > verbatimFrom) out.push({ kind: 'verbatim', start: verbatimFrom, end: to });
  };
  const skip = (from: number, to: number): void => {
    keep(from);
    verbatimFrom = to;
  };

  while (pos < text.length) {
    const lt = text.indexOf('<', pos);
    const endComment = inEsiComment ? text.indexOf('-->', pos) : -1;
    if (endComment >= 0 && (lt < 0 || endComment < lt)) {
      skip(endComment, endComment + 3);
      inEsiComment = false;
      pos = endComment + 3;
      continue;
    }
    if (lt < 0) break;
    if (text.startsWith('<!--esi', lt)) {
      if (removing) report.error(`after ${lt} ESI 1.0 Nested <!--esi element in <esi:remove>`);
      else if (inEsiComment) report.error(`after ${lt} ESI 1.0 Nested <!--esi element in <!--esi`);
      skip(lt, lt + 7);
      inEsiComment = true;
      pos = lt + 7;
      continue;
    }
    if (text.startsWith('<!--', lt)) {
      const end = text.indexOf('-->', lt + 4);
      pos = end < 0 ? text.length : end + 3;
      continue;
    }
    if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt + 9);
      pos = end < 0 ? text.length : end + 3;
      continue;
    }
    const closing = text.startsWith('</esi:', lt);
    if (!closing && !text.startsWith('<esi:', lt)) {
      pos = lt + 1;
      continue;
    }
    const gt = text.indexOf('>', lt);
    if (gt < 0) {
      // The element runs off the end of the body.
      report.error(`after ${lt} ESI 1.0 element not closed`);
      skip(lt, text.length);
      pos = text.length;
      break;
    }
    const tag = text.slice(lt, gt + 1);
    const name = /^<\/?esi:([A-Za-z0-9_-]*)/.exec(tag)![1];
    const empty = tag.endsWith('/>');
    pos = gt + 1;
    switch (name) {
      case 'remove':
        if (closing) {
          if (!removing) report.error(`after ${pos} ESI 1.0 </esi:remove> not in <esi:remove>`);
          skip(lt, pos);
          removing = false;
        } else if (empty) {
          skip(lt, pos);
        } else {
          if (removing) report.error(`after ${pos} ESI 1.0 <esi:remove> already open`);
          skip(lt, pos);
          removing = true;
        }
        continue;
      case 'comment':
        if (closing) report.error(`after ${pos} ESI 1.0 </esi:comment> illegal end-tag`);
        else if (!empty) report.error(`after ${pos} ESI 1.0 <esi:comment> needs final '/'`);
        skip(lt, pos);
        continue;
      case 'include': {
        if (closing) {
          report.error(`after ${pos} ESI 1.0 </esi:include> illegal end-tag`);
          skip(lt, pos);
          continue;
        }
        skip(lt, pos);
        if (removing) {
          report.error(`after ${pos} ESI 1.0 <esi:include> element nested in <esi:remove>`);
          continue;
        }
        if (!empty) report.error(`after ${pos} ESI 1.0 <esi:include> lacks final '/'`);
        const inc = includeOf(tag, features, report);
        if (inc !== null) out.push(inc);
        continue;
      }
      default:
        if (features.ignoreOtherElements) {
          // Not ours: delivered as it is.
          continue;
        }
        report.error(`after ${pos} ESI 1.0 <esi:${name}> element unknown`);
        skip(lt, pos);
    }
  }
  if (removing) report.error(`after ${text.length} ESI 1.0 <esi:remove> not closed`);
  keep(text.length);
  return out;
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
