// Prints docs/parameters.md from the parameter table:
//   node src/mgmt/param-docs.ts > docs/parameters.md
// test/mgmt/params.test.ts fails when the checked-in file differs from this output.

import { renderParamDocs } from './param-show.ts';

if (import.meta.main) process.stdout.write(renderParamDocs());
