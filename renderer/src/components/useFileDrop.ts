import { useEffect, useRef, useState, type DragEvent } from 'react';
import { on } from '../api/client.ts';

/**
 * Files dropped on a section. The preload has already handed their paths to the main
 * process (the page never sees a path), which answers with `files.dropped` and a token for
 * that one drop; `onDrop` gets the token, to pass to the endpoint that uses the files.
 */
export function useFileDrop(onDrop: (dropToken: string) => void, enabled = true) {
  const [dragging, setDragging] = useState(false);
  // Set by this section's drop: the announcement that follows it is for this section, not another.
  const pending = useRef(false);
  const latest = useRef(onDrop);
  useEffect(() => {
    latest.current = onDrop;
  });
  useEffect(
    () =>
      on('files.dropped', ({ dropToken }) => {
        if (!pending.current) return;
        pending.current = false;
        latest.current(dropToken);
      }),
    [],
  );
  return {
    dragging,
    handlers: {
      onDragOver(event: DragEvent<HTMLElement>) {
        if (!enabled || ![...event.dataTransfer.types].includes('Files')) return;
        event.preventDefault();
        event.dataTransfer.dropEffect = 'copy';
        setDragging(true);
      },
      onDragLeave(event: DragEvent<HTMLElement>) {
        if (event.currentTarget === event.target) setDragging(false);
      },
      onDrop(event: DragEvent<HTMLElement>) {
        event.preventDefault();
        setDragging(false);
        // The preload saw this drop first (it listens in the capture phase), so its paths are
        // already on their way to the main process; the token comes back as an event.
        if (enabled) pending.current = true;
      },
    },
  };
}
