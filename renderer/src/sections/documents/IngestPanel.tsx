import { AlertTriangle, CheckCircle2, Loader2, X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { IngestProgress } from '../../../../electron/common/contract/knowledge.ts';
import { useKnowledge } from '../../stores/knowledge.ts';
import './IngestPanel.css';

export function formatEta(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** The ingestion run: an overall bar with speed and time left, and the files still moving. */
export function IngestPanel({ progress }: { readonly progress: IngestProgress }) {
  const { t } = useTranslation();
  const cancel = useKnowledge((state) => state.cancel);
  const skipped = useKnowledge((state) => state.skippedByAdd);
  if (progress.total === 0) return null;
  const moving = progress.files.filter((file) => file.state !== 'done' && file.state !== 'skipped' && file.state !== 'queued');
  const percent = Math.round(progress.progress * 100);
  return (
    <section className="ingest" aria-label={t('documents.ingest.label')} data-testid="ingest-progress">
      <div className="ingest__top">
        {progress.active ? <Loader2 size={14} className="spin" aria-hidden="true" /> : <CheckCircle2 size={14} aria-hidden="true" />}
        <span className="ingest__summary">
          {progress.active
            ? t('documents.ingest.running', { done: progress.done + progress.failed + progress.skipped, total: progress.total })
            : t('documents.ingest.finished', { added: progress.done, unchanged: progress.skipped, failed: progress.failed, skipped })}
        </span>
        <span className="muted">
          {t('documents.ingest.speed', { rate: progress.pagesPerSecond.toFixed(1), count: progress.pages })}
          {progress.active ? ` · ${t('documents.ingest.eta', { eta: formatEta(progress.etaSeconds) })}` : ''}
        </span>
        <span className="section__spacer" />
        {progress.active ? (
          <button type="button" className="button button--small" onClick={() => void cancel()}>
            <X size={14} aria-hidden="true" />
            {t('documents.ingest.cancel')}
          </button>
        ) : null}
      </div>
      <progress className="progress" max={100} value={percent} aria-label={t('documents.ingest.overall')} aria-valuetext={`${percent}%`} />
      {moving.length === 0 ? null : (
        <ul className="ingest__files">
          {moving.slice(-6).map((file) => (
            <li key={`${file.collectionId}:${file.path}`} className="ingest__file">
              {file.state === 'failed' ? <AlertTriangle size={12} aria-hidden="true" /> : null}
              <span className="ingest__name" title={file.path}>
                {file.name}
              </span>
              <span className="muted">{t(`documents.fileStates.${file.state}`)}</span>
              {file.error === null ? (
                <progress className="progress progress--small" max={100} value={Math.round(file.progress * 100)} aria-label={file.name} />
              ) : (
                <span className="ingest__error">{file.error.message}</span>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
