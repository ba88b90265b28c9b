import * as Tooltip from '@radix-ui/react-tooltip';
import { ListChecks, ShieldCheck } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { RuntimeIndicator } from './RuntimeIndicator.tsx';

export function StatusBar() {
  const { t } = useTranslation();
  return (
    <footer className="status-bar" aria-label="Status">
      <RuntimeIndicator />
      <span className="status-bar__item" data-testid="status-jobs">
        <ListChecks size={14} aria-hidden="true" />
        {t('status.jobs')}
      </span>
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
