/** Electron IPC channel names shared by the main process and the preload. */
export const IPC_CHANNELS = {
  rpc: 'soberana:rpc',
  stream: 'soberana:stream',
  event: 'soberana:event',
} as const;
