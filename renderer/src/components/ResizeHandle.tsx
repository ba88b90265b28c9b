import { useRef, type KeyboardEvent, type PointerEvent } from 'react';
import { useTranslation } from 'react-i18next';
import './ResizeHandle.css';

interface ResizeHandleProps {
  readonly value: number;
  readonly min: number;
  readonly max: number;
  /** Called while dragging, for a live preview. */
  onPreview(value: number): void;
  /** Called once when a drag or key press ends, to persist. */
  onCommit(value: number): void;
}

const STEP = 16;

export function ResizeHandle({ value, min, max, onPreview, onCommit }: ResizeHandleProps) {
  const { t } = useTranslation();
  const drag = useRef<{ startX: number; startValue: number; last: number } | null>(null);
  const clamp = (next: number) => Math.round(Math.min(max, Math.max(min, next)));

  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    event.currentTarget.setPointerCapture(event.pointerId);
    drag.current = { startX: event.clientX, startValue: value, last: value };
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (drag.current === null) return;
    drag.current.last = clamp(drag.current.startValue + event.clientX - drag.current.startX);
    onPreview(drag.current.last);
  };
  const onPointerUp = () => {
    if (drag.current !== null) onCommit(drag.current.last);
    drag.current = null;
  };
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    const next = event.key === 'ArrowLeft' ? value - STEP : event.key === 'ArrowRight' ? value + STEP : null;
    if (next === null) return;
    event.preventDefault();
    onCommit(clamp(next));
  };

  return (
    <div
      className="resize-handle"
      role="separator"
      aria-orientation="vertical"
      aria-label={t('common.resize')}
      aria-valuenow={value}
      aria-valuemin={min}
      aria-valuemax={max}
      tabIndex={0}
      onPointerDown={onPointerDown}
      onPointerMove={onPointerMove}
      onPointerUp={onPointerUp}
      onPointerCancel={onPointerUp}
      onKeyDown={onKeyDown}
    />
  );
}
