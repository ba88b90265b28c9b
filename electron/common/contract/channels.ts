/** Electron IPC channel names shared by the main process and the preload. */
export const IPC_CHANNELS = {
  rpc: 'soberana:rpc',
  stream: 'soberana:stream',
  event: 'soberana:event',
  /** Paths of files dropped on the window, read by the preload (only it can see them). */
  dropped: 'soberana:dropped',
} as const;
