// Every class of VCL error the checker reports, each with its exact message and position, and
// texts Varnish accepts that must check clean. The cases are data (check-cases.ts) so that the
// same list can be held against `varnishd -C`.

import { describe, expect, it } from 'vitest';
import { ACCEPT_CASES, ERROR_CASES } from './check-cases.ts';
import { clean, errors } from './check-util.ts';

describe.each(Object.entries(ERROR_CASES))('refused: %s', (_group, cases) => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    expect(errors(c.vcl)).toEqual(c.errors);
  });
});

describe('accepted as Varnish accepts it', () => {
  it.each(ACCEPT_CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    clean(c.vcl);
  });
});
