// The live display `shellac top` and `shellac hist` share: read transaction records over the
// admin connection, and every interval draw a screen the view computes from them.
//
// On a terminal the screen is drawn in the alternate screen buffer without clearing it first:
// the cursor goes home, each line is written over the last screen's and its rest erased (ESC [K),
// then everything below is erased (ESC [J). Nothing is ever blank between two screens, so
// nothing flickers. A resize redraws at once with the new size; `q` or Ctrl-C ends. When stdout
// is not a terminal, each screen is written as plain lines followed by an empty line, with the
// size from COLUMNS and LINES (80 by 24 when unset).
//
// With `once` (-1), records are read for one interval (or until `limit` records), then one
// screen is written as plain lines and the command ends, as varnishtop -1 and varnishhist -1.

import type { TxRecord } from '../common/log.ts';
import type { TargetFlags } from './admin-target.ts';
import { streamRecords } from './log-cli.ts';

export interface LiveView {
  /** A record arrived (the stream is read with -g vxid: one record at a time). */
  add(record: TxRecord): void;
  /**
   * The lines of one screen of `cols` by `rows`. `refresh` is true once per interval; false when
   * the same state is drawn again (the first screen, a resize), so a view that ages its data
   * per refresh (top's decay) does it once per interval.
   */
  screen(cols: number, rows: number, refresh: boolean): string[];
}

export interface LiveOptions {
  readonly target: TargetFlags;
  /** log.stream's arguments (-q). */
  readonly streamArgs: string[];
  /** Seconds between screens. */
  readonly interval: number;
  /** -1: one screen after one interval, then exit. */
  readonly once: boolean;
  /** Stop after this many records (--count, for scripts and tests). */
  readonly limit: number;
}

const ESC = '\x1b[';
const ENTER = `${ESC}?1049h${ESC}?25l`;
const LEAVE = `${ESC}?25h${ESC}?1049l`;

export async function runLiveView(view: LiveView, opts: LiveOptions): Promise<number> {
  const out = process.stdout;
  const tty = out.isTTY === true && !opts.once;
  const size = (): [number, number] =>
    tty ? [out.columns || 80, out.rows || 24] : [Number(process.env.COLUMNS) || 80, Number(process.env.LINES) || 24];
  const draw = (refresh: boolean): void => {
    const [cols, rows] = size();
    const lines = view.screen(cols, rows, refresh);
    if (!tty) {
      // Screens one after another are told apart by a blank line; -1 writes one screen.
      out.write(`${lines.map((l) => l.trimEnd()).join('\n')}\n${opts.once ? '' : '\n'}`);
      return;
    }
    const fitted = lines.slice(0, rows).map((l) => `${l.slice(0, cols)}${ESC}K`);
    out.write(`${ESC}H${fitted.join('\r\n')}${ESC}J`);
  };

  const code = await streamRecords(
    opts.target,
    opts.streamArgs,
    opts.limit,
    (group) => {
      for (const r of group) view.add(r);
    },
    (stop) => {
      if (opts.once) {
        // -1 with --count ends on the count alone; otherwise after one interval.
        const timer = opts.limit === Number.POSITIVE_INFINITY ? setTimeout(stop, opts.interval * 1000) : undefined;
        return () => clearTimeout(timer);
      }
      const timer = setInterval(() => draw(true), opts.interval * 1000);
      if (!tty) return () => clearInterval(timer);
      const redraw = (): void => draw(false);
      out.write(ENTER);
      redraw();
      out.on('resize', redraw);
      const keys = listenForQuit(stop);
      return () => {
        clearInterval(timer);
        out.off('resize', redraw);
        keys();
        out.write(LEAVE);
      };
    },
  );
  if (code === 0 && opts.once) draw(true);
  return code;
}

/** `q`, Ctrl-C or Ctrl-D on a terminal's stdin calls `stop`; returns the undo. */
function listenForQuit(stop: () => void): () => void {
  const input = process.stdin;
  if (!input.isTTY) return () => {};
  input.setRawMode(true);
  const onData = (b: Buffer): void => {
    const c = b.toString();
    if (c === 'q' || c === '\x03' || c === '\x04') stop();
  };
  input.on('data', onData);
  input.resume();
  return () => {
    input.off('data', onData);
    input.setRawMode(false);
    input.pause();
  };
}
