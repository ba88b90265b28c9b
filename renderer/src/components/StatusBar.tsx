import * as Tooltip from '@radix-ui/react-tooltip';
import { ListChecks, Loader2, ShieldCheck } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { useKnowledge } from '../stores/knowledge.ts';
import { useNavigation } from '../stores/navigation.ts';
import { RuntimeIndicator } from './RuntimeIndicator.tsx';
import './StatusBar.css';

/** Background ingestion, with its progress; opens the Documents screen. */
function JobsIndicator() {
  const { t } = useTranslation();
  const progress = useKnowledge((state) => state.progress);
  const open = useNavigation((state) => state.open);
  if (progress === null || !progress.active) {
    return (
      <span className="status-bar__item" data-testid="status-jobs">
        <ListChecks size={14} aria-hidden="true" />
        {t('status.jobs')}
      </span>
    );
  }
  const percent = Math.round(progress.progress * 100);
  return (
    <button type="button" className="status-bar__item status-bar__button" data-testid="status-jobs" onClick={() => open('documents')}>
      <Loader2 size={14} className="spin" aria-hidden="true" />
      {t('status.ingesting', { done: progress.done + progress.failed + progress.skipped, total: progress.total, percent })}
      <progress className="progress progress--tiny" max={100} value={percent} aria-hidden="true" />
    </button>
  );
}

export function StatusBar() {
  const { t } = useTranslation();
  return (
    <footer className="status-bar" aria-label="Status">
      <RuntimeIndicator />
      <JobsIndicator />
      <span className="status-bar__spacer" />
      <Tooltip.Root>
        <Tooltip.Trigger asChild>
          <span className="status-bar__item status-bar__offline" data-testid="status-offline" tabIndex={0}>
            <ShieldCheck size={14} aria-hidden="true" />
            {t('status.offline')}
          </span>
        </Tooltip.Trigger>
        <Tooltip.Portal>
          <Tooltip.Content className="tooltip" side="top" sideOffset={6}>
            {t('status.offlineHint')}
          </Tooltip.Content>
        </Tooltip.Portal>
      </Tooltip.Root>
    </footer>
  );
}
