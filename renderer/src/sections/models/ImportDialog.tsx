import { FileUp, FolderOpen, X } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { ImportMode } from '../../../../electron/common/contract/models.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { formatBytes } from '../../format.ts';
import { useModels, type ImportJob } from '../../stores/models.ts';
import './ImportDialog.css';

const MODES: readonly ImportMode[] = ['copy', 'link', 'reference'];

function JobStatus({ job }: { job: ImportJob | undefined }) {
  const { t } = useTranslation();
  if (job === undefined) return null;
  switch (job.phase) {
    case 'waiting':
      return <span className="muted">{t('models.import.waiting')}</span>;
    case 'running': {
      const progress = job.progress;
      if (progress === null) return <span className="muted">{t('models.import.checking')}</span>;
      const fraction = progress.bytesTotal === 0 ? 0 : progress.bytesDone / progress.bytesTotal;
      return (
        <div className="import-job__progress">
          <progress className="progress" max={1} value={fraction} aria-label={t('models.import.progressLabel', { percent: Math.round(fraction * 100) })} />
          <span className="muted">
            {t(`models.import.phases.${progress.phase}`)} · {Math.round(fraction * 100)}% · {formatBytes(progress.bytesPerSecond)}/s
            {progress.secondsLeft === null ? '' : ` · ${t('models.import.left', { seconds: Math.ceil(progress.secondsLeft) })}`}
          </span>
        </div>
      );
    }
    case 'done':
      return <span className="check-status check-status--pass">{t('models.import.done')}</span>;
    case 'cancelled':
      return <span className="muted">{t('models.import.cancelled')}</span>;
    case 'failed':
      return (
        <span className="field__error" role="alert">
          {job.error.message}
        </span>
      );
  }
}

export function ImportDialog() {
  const { t } = useTranslation();
  const open = useModels((state) => state.importOpen);
  const candidates = useModels((state) => state.candidates);
  const problems = useModels((state) => state.scanProblems);
  const scanError = useModels((state) => state.scanError);
  const jobs = useModels((state) => state.jobs);
  const { openImport, scan, setCandidate, startImport, cancelImport } = useModels.getState();
  const running = Object.values(jobs).some((job) => job.phase === 'running' || job.phase === 'waiting');
  const ready = candidates.some(
    (candidate) =>
      candidate.selected && (jobs[candidate.token] === undefined || jobs[candidate.token]?.phase === 'failed' || jobs[candidate.token]?.phase === 'cancelled'),
  );

  return (
    <Dialog open={open} onOpenChange={openImport} title={t('models.import.title')} description={t('models.import.hint')} wide>
      <div className="dialog__body">
        <div className="form-actions">
          <button type="button" className="button" onClick={() => void scan('files')}>
            <FileUp size={14} aria-hidden="true" />
            {t('models.import.chooseFiles')}
          </button>
          <button type="button" className="button" onClick={() => void scan('folder')}>
            <FolderOpen size={14} aria-hidden="true" />
            {t('models.import.chooseFolder')}
          </button>
        </div>
        {scanError === null ? null : (
          <p className="field__error" role="alert">
            {scanError.message}
          </p>
        )}
        {candidates.length === 0 ? (
          <p className="muted">{t('models.import.nothingYet')}</p>
        ) : (
          <ul className="import-list" aria-label={t('models.import.listLabel')}>
            {candidates.map((candidate) => {
              const job = jobs[candidate.token];
              const locked = job !== undefined && job.phase !== 'failed' && job.phase !== 'cancelled';
              return (
                <li key={candidate.token} className="import-job" data-candidate={candidate.displayName}>
                  <label className="checkbox">
                    <input
                      type="checkbox"
                      checked={candidate.selected}
                      disabled={locked}
                      onChange={(event) => setCandidate(candidate.token, { selected: event.target.checked })}
                      aria-label={t('models.import.include', { name: candidate.displayName })}
                    />
                  </label>
                  <div className="import-job__main">
                    <div className="import-job__name" title={candidate.sourcePath}>
                      {candidate.displayName}
                      <span className="muted">
                        {' '}
                        · {formatBytes(candidate.sizeBytes)}
                        {candidate.parts > 1 ? ` · ${t('models.import.parts', { count: candidate.parts })}` : ''}
                        {candidate.origin === 'ollama' || candidate.origin === 'lmstudio' ? ` · ${t(`models.import.origins.${candidate.origin}`)}` : ''}
                      </span>
                    </div>
                    <JobStatus job={job} />
                  </div>
                  <select
                    className="select select--small"
                    value={candidate.mode}
                    disabled={locked}
                    aria-label={t('models.import.modeFor', { name: candidate.displayName })}
                    onChange={(event) => setCandidate(candidate.token, { mode: event.target.value as ImportMode })}
                  >
                    {MODES.map((mode) => (
                      <option key={mode} value={mode}>
                        {t(`models.import.modes.${mode}`)}
                      </option>
                    ))}
                  </select>
                  {job?.phase === 'running' || job?.phase === 'waiting' ? (
                    <button
                      type="button"
                      className="button button--ghost button--icon"
                      onClick={() => cancelImport(candidate.token)}
                      aria-label={t('models.import.cancel', { name: candidate.displayName })}
                    >
                      <X size={14} aria-hidden="true" />
                    </button>
                  ) : null}
                </li>
              );
            })}
          </ul>
        )}
        {problems.length === 0 ? null : (
          <ul className="guards" aria-label={t('models.import.problems')}>
            {problems.map((problem) => (
              <li key={problem.path}>
                {problem.path}: {problem.message}
              </li>
            ))}
          </ul>
        )}
        <p className="field__hint">{t('models.import.modesHint')}</p>
      </div>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={() => openImport(false)}>
          {t('common.close')}
        </button>
        <button type="button" className="button button--primary" disabled={!ready || running} onClick={() => void startImport()}>
          {t('models.import.start')}
        </button>
      </div>
    </Dialog>
  );
}
