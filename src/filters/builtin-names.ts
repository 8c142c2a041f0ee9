// The names of the built-in filters of both chains: a VMOD may not add a filter under one.

import { DELIVERY_FILTER_NAMES } from './delivery-filters.ts';
import { FETCH_FILTER_NAMES } from './fetch-filters.ts';

export function isBuiltinFilter(name: string): boolean {
  return FETCH_FILTER_NAMES.includes(name) || DELIVERY_FILTER_NAMES.includes(name);
}
