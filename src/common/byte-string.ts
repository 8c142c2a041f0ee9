// VCL strings are byte strings, as in Varnish: a header value is the bytes that came on the wire,
// and a literal is the bytes of the VCL source. Shellac holds them as JS strings with one
// character per byte (latin1), which is how headers are read and written. VCL source is read as
// UTF-8 text (so messages and carets show it as written); its literals become byte strings here.

const ASCII = /^[\x00-\x7f]*$/;

/** The UTF-8 bytes of `text`, one character per byte. ASCII text is returned as it is. */
export function utf8ToByteString(text: string): string {
  return ASCII.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** A byte string's bytes (the inverse of reading with latin1). */
export function byteStringToBuffer(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}
