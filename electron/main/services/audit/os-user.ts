import os from 'node:os';

/** The OS account each record names. */
export function currentUser(): string {
  try {
    return os.userInfo().username;
  } catch {
    // Some containers run under a uid with no passwd entry.
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}
