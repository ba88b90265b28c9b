import { useState, type DragEvent } from 'react';

/**
 * Files dropped on a section. The preload has already handed their paths to the main
 * process (the page never sees a path); `onDrop` only asks it to use "what was dropped".
 */
export function useFileDrop(onDrop: () => void, enabled = true) {
  const [dragging, setDragging] = useState(false);
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
        if (enabled) onDrop();
      },
    },
  };
}
