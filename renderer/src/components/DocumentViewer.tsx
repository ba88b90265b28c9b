import { ChevronLeft, ChevronRight } from 'lucide-react';
import { useEffect, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { PDFDocumentProxy } from 'pdfjs-dist';
import type { DocumentView } from '../../../electron/common/contract/knowledge.ts';
import { useKnowledge, type ViewerTarget } from '../stores/knowledge.ts';
import { ChunkText } from './ChunkText.tsx';
import { MarkingBadge } from './markings/MarkingBadge.tsx';
import { ScanBadge } from './ScanBadge.tsx';
import { ScanImage } from './ScanImage.tsx';
import { Dialog } from './Dialog.tsx';
import { openPdf, renderPage, type OpenedPdf } from './pdf.ts';
import './DocumentViewer.css';

function PdfPage({ view, target }: { readonly view: DocumentView; readonly target: ViewerTarget }) {
  const { t } = useTranslation();
  const canvas = useRef<HTMLCanvasElement>(null);
  const frame = useRef<HTMLDivElement>(null);
  const [doc, setDoc] = useState<PDFDocumentProxy | null>(null);
  const [page, setPage] = useState(target.page ?? 1);
  const [failed, setFailed] = useState<string | null>(null);
  const [rendered, setRendered] = useState<number | null>(null);
  useEffect(() => setPage(target.page ?? 1), [target]);
  useEffect(() => {
    let alive = true;
    let opened: OpenedPdf | null = null;
    if (view.pdfBase64 === null) return;
    openPdf(view.pdfBase64).then(
      (value) => {
        opened = value;
        if (alive) setDoc(value.doc);
        else void value.destroy();
      },
      (error: unknown) => alive && setFailed(error instanceof Error ? error.message : String(error)),
    );
    return () => {
      alive = false;
      void opened?.destroy();
    };
  }, [view]);
  useEffect(() => {
    if (doc === null || canvas.current === null) return;
    const highlight = page === target.page ? target.highlight : null;
    setRendered(null);
    // The page fits the frame's width (less its padding), at most 760 px.
    const width = Math.min(760, Math.max(320, (frame.current?.clientWidth ?? 700) - 32));
    const scan = view.scanPages?.find((entry) => entry.page === page) ?? null;
    renderPage(doc, page, canvas.current, width, highlight, scan).then(
      () => setRendered(page),
      (error: unknown) => setFailed(error instanceof Error ? error.message : String(error)),
    );
  }, [doc, page, target, view]);
  const pages = doc?.numPages ?? view.pages ?? 1;
  return (
    <div className="viewer__pdf" ref={frame}>
      <div className="viewer__nav">
        <button
          type="button"
          className="button button--ghost button--icon button--small"
          disabled={page <= 1}
          onClick={() => setPage(page - 1)}
          aria-label={t('viewer.previousPage')}
        >
          <ChevronLeft size={14} aria-hidden="true" />
        </button>
        <span data-testid="viewer-page" data-rendered={rendered ?? ''}>
          {t('viewer.pageOf', { page, pages })}
        </span>
        <button
          type="button"
          className="button button--ghost button--icon button--small"
          disabled={page >= pages}
          onClick={() => setPage(page + 1)}
          aria-label={t('viewer.nextPage')}
        >
          <ChevronRight size={14} aria-hidden="true" />
        </button>
      </div>
      {failed === null ? (
        <canvas ref={canvas} className="viewer__canvas" aria-label={t('viewer.pageImage', { page })} />
      ) : (
        <p className="notice notice--danger">{t('viewer.renderFailed', { message: failed })}</p>
      )}
    </div>
  );
}

function TextView({ view, target }: { readonly view: DocumentView; readonly target: ViewerTarget }) {
  const list = useRef<HTMLOListElement>(null);
  useEffect(() => {
    const element = list.current?.querySelector('[data-target="true"]');
    element?.scrollIntoView({ block: 'center' });
  }, [target, view]);
  return (
    <ol className="viewer__text" ref={list}>
      {view.chunks.map((chunk) => (
        <li
          key={chunk.id}
          className={chunk.id === target.chunkId ? 'viewer__chunk viewer__chunk--target' : 'viewer__chunk'}
          data-target={chunk.id === target.chunkId ? 'true' : undefined}
        >
          {chunk.headingPath.length === 0 ? null : <span className="muted viewer__path">{chunk.headingPath.join(' › ')}</span>}
          {chunk.page === null ? null : <span className="badge">p. {chunk.page}</span>}
          <ChunkText text={chunk.text} />
        </li>
      ))}
    </ol>
  );
}

/** The document a source comes from, opened at the source's page (PDF), as its picture (PNG, JPEG), or at its passage (other formats). */
export function DocumentViewer() {
  const { t } = useTranslation();
  const viewer = useKnowledge((state) => state.viewer);
  const close = useKnowledge((state) => state.closeViewer);
  const passage = viewer?.view?.chunks.find((chunk) => chunk.id === viewer.target.chunkId) ?? null;
  // A PNG or JPEG scan's picture; a TIFF, which the page cannot decode, shows its text.
  const picture = viewer?.view?.image ?? null;
  return (
    <Dialog open={viewer !== null} onOpenChange={(open) => !open && close()} title={viewer?.view?.name ?? t('viewer.loading')} wide>
      {viewer === null ? null : viewer.error !== null ? (
        <p className="notice notice--danger" role="alert">
          {viewer.error.message}
        </p>
      ) : viewer.view === null ? (
        <p className="muted">{t('viewer.loading')}</p>
      ) : (
        <>
          <MarkingBadge marking={viewer.view.marking} testId="viewer-marking" />
          <div className="viewer" data-testid="document-viewer">
            {viewer.view.pdfBase64 !== null ? (
              <PdfPage view={viewer.view} target={viewer.target} />
            ) : picture !== null ? (
              <ScanImage view={viewer.view} picture={picture} target={viewer.target} />
            ) : (
              <TextView view={viewer.view} target={viewer.target} />
            )}
            {passage !== null && (viewer.view.pdfBase64 !== null || picture !== null) ? (
              <aside className="viewer__passage" aria-label={t('viewer.passage')}>
                <h3 className="viewer__heading">
                  {t('viewer.passage')} <ScanBadge confidence={passage.ocrConfidence} />
                </h3>
                <p>{passage.text}</p>
              </aside>
            ) : null}
          </div>
        </>
      )}
    </Dialog>
  );
}
