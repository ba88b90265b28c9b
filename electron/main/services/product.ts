import pkg from '../../../package.json' with { type: 'json' };

/** Product facts from package.json, the single source of the version. */
export const product = {
  name: pkg.productName,
  version: pkg.version,
} as const;
