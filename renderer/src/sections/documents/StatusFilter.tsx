import { RotateCcw } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { DocumentStatusGroup, StatusCounts } from '../../../../electron/common/contract/knowledge.ts';
import { countsOf, totalOf } from '../../stores/documents-list.ts';
import { useKnowledge } from '../../stores/knowledge.ts';

// Above the table: how many documents of the chosen folder are in each state, as toggles
// that filter the table by state, how many rows the filter matches, and "Retry failed (N)"
// for the folder's failed documents.

const GROUPS: readonly DocumentStatusGroup[] = ['indexed', 'pending', 'failed', 'skipped'];

export function StatusFilter({ fallback, readOnly }: { readonly fallback: StatusCounts; readonly readOnly: boolean }) {
  const { t, i18n } = useTranslation();
  const folders = useKnowledge((state) => state.folders);
  const filter = useKnowledge((state) => state.documents.filter);
  const matching = useKnowledge((state) => (state.documents.loaded ? state.documents.total : null));
  const { setStatus, retryFailed } = useKnowledge.getState();
  const counts = countsOf(folders, filter.folder) ?? fallback;
  const number = (value: number) => value.toLocaleString(i18n.language);
  return (
    <div className="status-filter" role="group" aria-label={t('documents.statusFilter')} data-testid="status-filter">
      <button type="button" className="chip" aria-pressed={filter.status === null} onClick={() => setStatus(null)} data-testid="status-all">
        {t('documents.groups.all')} <span className="chip__count">{number(totalOf(counts))}</span>
      </button>
      {GROUPS.map((group) => (
        <button
          key={group}
          type="button"
          className={group === 'failed' && counts.failed > 0 ? 'chip chip--danger' : 'chip'}
          aria-pressed={filter.status === group}
          onClick={() => setStatus(filter.status === group ? null : group)}
          data-testid={`status-${group}`}
        >
          {t(`documents.groups.${group}`)} <span className="chip__count">{number(counts[group])}</span>
        </button>
      ))}
      <span className="section__spacer" />
      {matching === null ? null : (
        <span className="muted status-filter__matching" role="status" data-testid="documents-matching">
          {t('documents.matching', { count: matching })}
        </span>
      )}
      {readOnly || counts.failed === 0 ? null : (
        <button type="button" className="button button--small" onClick={() => void retryFailed()} data-testid="retry-failed">
          <RotateCcw size={14} aria-hidden="true" />
          {t('documents.retryFailed', { count: counts.failed })}
        </button>
      )}
    </div>
  );
}
