/** Exit codes scripts can rely on. */
export const EXIT = {
  ok: 0,
  /** The command ran and found a problem (e.g. a failed check). */
  problem: 1,
  /** The command line was wrong. */
  usage: 2,
  /** Soberana itself failed. */
  internal: 3,
} as const;
