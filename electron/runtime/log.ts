/** How the inference process's modules report; index.ts passes it on to the main process's log. */
export type RuntimeLog = (level: 'debug' | 'info' | 'warn' | 'error', message: string) => void;
