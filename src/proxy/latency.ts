// Latency histograms for /metrics: client request duration by handling, backend fetch
// duration and time to first byte by backend. A leaf the proxy may import, as the log hub is:
// the server holds one only while /metrics is served (metrics_listen), so without it a request
// pays one null check.
//
// Buckets are fixed for a cache: from 100 µs (a hit from memory) to 10 s (a slow origin), 1,
// 2.5 and 5 per decade. Counts are kept per bucket and summed into Prometheus's cumulative
// `le` buckets only when scraped. The number of label values is bounded (backends can be made
// at run time by VMODs): past MAX_SERIES, new values are counted under `other`.

/** Upper bounds in seconds, ascending; +Inf is implied. */
export const LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** Label values kept per histogram before new ones go to `other`. */
export const MAX_SERIES = 500;

/** One label value's counts: per bucket (the last is +Inf), sum and count. */
export class LatencySeries {
  readonly counts: number[] = new Array(LATENCY_BUCKETS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(seconds: number): void {
    let i = 0;
    while (i < LATENCY_BUCKETS.length && seconds > LATENCY_BUCKETS[i]) i++;
    this.counts[i]++;
    this.sum += seconds;
    this.count++;
  }
}

export class LatencyHistogram {
  readonly series = new Map<string, LatencySeries>();
  readonly name: string;
  readonly label: string;
  readonly help: string;

  /** `name` in base units (`_seconds`), one label, and the HELP text. */
  constructor(name: string, label: string, help: string, known: readonly string[] = []) {
    this.name = name;
    this.label = label;
    this.help = help;
    // Values known in advance are there from the start, so a dashboard shows them at 0.
    for (const v of known) this.series.set(v, new LatencySeries());
  }

  observe(value: string, seconds: number): void {
    let s = this.series.get(value);
    if (s === undefined) {
      const key = this.series.size < MAX_SERIES ? value : 'other';
      s = this.series.get(key) ?? new LatencySeries();
      this.series.set(key, s);
    }
    s.observe(seconds);
  }
}

/** How a client request was handled, as the request-duration histogram labels it. */
export type RequestHandling = 'hit' | 'miss' | 'pass' | 'pipe' | 'synth';

export class LatencyMetrics {
  readonly request = new LatencyHistogram(
    'shellac_request_duration_seconds',
    'handling',
    'Client requests: seconds from the request head until the response was handed to the connection, by handling',
    ['hit', 'miss', 'pass', 'pipe', 'synth'] satisfies RequestHandling[],
  );
  readonly fetch = new LatencyHistogram(
    'shellac_backend_fetch_duration_seconds',
    'backend',
    'Backend fetches: seconds from the start of the fetch until the whole body was received, by backend',
  );
  readonly firstByte = new LatencyHistogram(
    'shellac_backend_first_byte_seconds',
    'backend',
    'Backend fetches: seconds from the start of the fetch until the response head arrived, by backend',
  );

  all(): readonly LatencyHistogram[] {
    return [this.request, this.fetch, this.firstByte];
  }
}
