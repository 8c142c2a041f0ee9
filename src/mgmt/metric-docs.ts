// Prints docs/metrics.md from the counter table and the Prometheus naming rules:
//   node src/mgmt/metric-docs.ts > docs/metrics.md
// test/mgmt/prometheus.test.ts fails when the checked-in file differs from this output.

import { stateFamilyDocs } from './metrics-state.ts';
import { renderMetricDocs } from './prometheus.ts';

if (import.meta.main) process.stdout.write(renderMetricDocs(stateFamilyDocs()));
