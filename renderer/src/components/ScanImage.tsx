import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { DocumentView } from '../../../electron/common/contract/knowledge.ts';
import type { ViewerTarget } from '../stores/knowledge.ts';
import { scanMarks, type ScanWords } from './pdf.ts';

// A PNG or JPEG scan shown as its picture, with the cited passage's words marked from the
// boxes OCR read them in (the same marks as on a scanned PDF page). The bytes come in the
// view, never by URL; the browser decodes them (createImageBitmap), nothing is evaluated.

type Picture = NonNullable<DocumentView['image']>;

function bytesOf(base64: string): Uint8Array<ArrayBuffer> {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * Draws the picture into the canvas at `width` CSS pixels and marks the passage's words;
 * the canvas's data-marked attribute counts the marks.
 */
export async function drawScan(picture: Picture, canvas: HTMLCanvasElement, width: number, passage: string | null, scan: ScanWords | null): Promise<void> {
  const bitmap = await createImageBitmap(new Blob([bytesOf(picture.base64)], { type: picture.mime }));
  try {
    const ratio = window.devicePixelRatio || 1;
    const height = (bitmap.height * width) / Math.max(1, bitmap.width);
    canvas.width = Math.floor(width * ratio);
    canvas.height = Math.floor(height * ratio);
    canvas.style.width = `${Math.floor(width)}px`;
    canvas.style.height = `${Math.floor(height)}px`;
    const context = canvas.getContext('2d');
    if (context === null) return;
    context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    canvas.dataset.marked = '0';
    if (passage === null || scan === null) return;
    context.fillStyle = 'rgba(255, 200, 0, 0.35)';
    const marks = scanMarks(scan, passage, canvas.width, canvas.height);
    for (const [x, y, w, h] of marks) context.fillRect(x, y, w, h);
    canvas.dataset.marked = String(marks.length);
  } finally {
    bitmap.close();
  }
}

export function ScanImage({ view, picture, target }: { readonly view: DocumentView; readonly picture: Picture; readonly target: ViewerTarget }) {
  const { t } = useTranslation();
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [rendered, setRendered] = useState(false);
  useEffect(() => {
    if (canvas.current === null) return;
    let alive = true;
    setRendered(false);
    // As a PDF page: the frame's width less its padding, at most 760 px.
    const width = Math.min(760, Math.max(320, (frame.current?.clientWidth ?? 700) - 32));
    // An image is one page, read by OCR as page 1.
    const scan = view.scanPages?.find((entry) => entry.page === 1) ?? null;
    drawScan(picture, canvas.current, width, target.highlight, scan).then(
      () => alive && setRendered(true),
      (error: unknown) => alive && setFailed(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      alive = false;
    };
  }, [picture, target, view]);
  return (
    <div className="viewer__pdf" ref={frame}>
      {failed === null ? (
        <canvas
          ref={canvas}
          className="viewer__canvas"
          data-testid="viewer-scan"
          data-rendered={rendered ? 'true' : undefined}
          aria-label={t('viewer.pageImage', { page: 1 })}
        />
      ) : (
        <p className="notice notice--danger">{t('viewer.renderFailed', { message: failed })}</p>
      )}
    </div>
  );
}
