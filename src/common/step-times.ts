// The times of a task's steps, as Varnish's Timestamp records give them: each step's label with
// the time it was reached, since the task's start and since the step before. One list feeds
// both readers of a client request's steps, its transaction record (`shellac log`) and the
// `request` server event; a request makes one only while one of them wants it, so without a
// reader a step costs one null test.
//
// Labels (Varnish's, client side): Start (the request began: its head was read), Req (the
// request was received whole, as far as Shellac reads before vcl_recv: at once after Start),
// Waitinglist (off the waiting list of a busy object), Fetch (a miss's or pass's fetch gave an
// object to deliver), Process (ready to write the response, or vcl_pipe said pipe), Resp (the
// response was handed to the connection), Restart, Pipe (the tunnel is open and the request sent
// on), PipeSess (the tunnel closed; a pipe has no Resp). Backend side: Start, Fetch, Connected,
// Bereq, Beresp, Process, Retry, Error, BerespBody.

/** One Timestamp record: `Label: time sinceStart sinceLast`, in seconds. */
export interface StepTime {
  readonly label: string;
  /** Seconds since the epoch. */
  readonly time: number;
  readonly sinceStart: number;
  readonly sinceLast: number;
}

export class StepTimes {
  /** Seconds since the epoch at Start. */
  readonly start: number;
  readonly #t0: number;
  readonly #labels: string[] = ['Start'];
  /** Seconds since Start, one per label. */
  readonly #at: number[] = [0];

  constructor() {
    this.start = Date.now() / 1000;
    this.#t0 = performance.now();
  }

  /** The task reached a step. */
  mark(label: string): void {
    this.#labels.push(label);
    this.#at.push((performance.now() - this.#t0) / 1000);
  }

  /** Every step in order, repeated labels (two restarts) included. */
  list(): StepTime[] {
    const at = this.#at;
    return this.#labels.map((label, i) => ({
      label,
      time: micro(this.start + at[i]),
      sinceStart: micro(at[i]),
      sinceLast: micro(i === 0 ? 0 : at[i] - at[i - 1]),
    }));
  }

  /** Label → seconds since Start, as a transaction record keeps them (a repeated label: the last). */
  sinceStart(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.#labels.length; i++) out[this.#labels[i]] = micro(this.#at[i]);
    return out;
  }
}

/** Rounded to the microsecond, as Varnish prints them. */
function micro(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
