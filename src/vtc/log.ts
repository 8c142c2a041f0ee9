// The log of one test: lines as varnishtest writes them (`**   c1    === txreq`), kept in
// memory and shown when the test fails or with -v. Level 0 is a failure, 4 the most detail.
// Byte dumps show control characters escaped so a log stays one record per line.

const LEAD = ['----', '*   ', '**  ', '*** ', '****'] as const;

/** Past this many characters a log keeps only its head and its tail. */
const MAX_LOG_CHARS = 4 << 20;
/** Dumps longer than this are cut, with a note saying how much was left out. */
const MAX_DUMP = 2048;

export class VtcLog {
  readonly #head: string[] = [];
  readonly #tail: string[] = [];
  #chars = 0;
  #dropped = 0;
  readonly #start = performance.now();
  /** Called with each line as it is written (live -v output); optional. */
  readonly sink: ((line: string) => void) | undefined;

  constructor(sink?: (line: string) => void) {
    this.sink = sink;
  }

  emit(id: string, level: number, msg: string): void {
    const lead = LEAD[Math.max(0, Math.min(4, level))];
    this.#push(`${lead} ${id.padEnd(5)} ${msg}`);
  }

  /** Logs data line by line under `tag`, with CR, tabs and non-printables escaped. */
  dump(id: string, level: number, tag: string, data: string): void {
    const cut = data.length > MAX_DUMP ? data.slice(0, MAX_DUMP) : data;
    const parts = cut.split('\n');
    if (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
    for (const part of parts) this.emit(id, level, `${tag}|${escapeBytes(part)}`);
    if (cut.length < data.length) this.emit(id, level, `${tag}|[... ${data.length - MAX_DUMP} more bytes]`);
  }

  /** Seconds since the log was opened. */
  elapsed(): number {
    return (performance.now() - this.#start) / 1000;
  }

  lines(): string[] {
    if (this.#dropped === 0) return [...this.#head];
    return [...this.#head, `[... ${this.#dropped} log lines left out ...]`, ...this.#tail];
  }

  #push(line: string): void {
    this.sink?.(line);
    if (this.#chars < MAX_LOG_CHARS) {
      this.#head.push(line);
      this.#chars += line.length;
      return;
    }
    this.#tail.push(line);
    if (this.#tail.length > 2000) {
      this.#tail.shift();
      this.#dropped++;
    }
  }
}

export function escapeBytes(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c === 0x5c) out += '\\\\';
    else if (c < 0x20 || c >= 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += s[i];
  }
  return out;
}
