import type { TFunction } from 'i18next';
import { AlertTriangle, Cpu, Loader2 } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { RuntimeState } from '../../../electron/common/contract/schemas.ts';
import { formatBytes } from '../format.ts';
import { useRuntime } from '../stores/runtime.ts';

function describe(runtime: RuntimeState | null, t: TFunction): string {
  if (runtime === null) return t('runtimeStatus.starting');
  const name = runtime.model?.name ?? '';
  switch (runtime.status) {
    case 'loading':
      return runtime.loadProgress === null
        ? t('runtimeStatus.loading')
        : t('runtimeStatus.loadingPercent', { percent: Math.round(runtime.loadProgress * 100) });
    case 'ready':
      return t('runtimeStatus.ready', { name });
    case 'generating':
      return t('runtimeStatus.generating', { name });
    default:
      return t(`runtimeStatus.${runtime.status}`);
  }
}

/** The status bar's runtime part: backend, loaded model and memory, kept current by runtime.stateChanged. */
export function RuntimeIndicator() {
  const { t } = useTranslation();
  const runtime = useRuntime((state) => state.runtime);
  const troubled = runtime?.status === 'crashed' || runtime?.status === 'restarting';
  const busy = runtime?.status === 'loading' || runtime?.status === 'starting';
  const Icon = troubled ? AlertTriangle : busy ? Loader2 : Cpu;
  const backend = runtime?.hardware === null || runtime?.hardware === undefined ? null : t(`runtime.backends.${runtime.hardware.backend}`);
  return (
    <span
      className={troubled ? 'status-bar__item status-bar__item--warning' : 'status-bar__item'}
      data-testid="status-runtime"
      data-status={runtime?.status ?? 'unknown'}
      title={troubled ? runtime?.lastCrash?.reason : undefined}
    >
      <Icon size={14} aria-hidden="true" />
      {backend === null ? null : <span data-testid="status-backend">{backend}</span>}
      {backend === null ? null : <span aria-hidden="true">·</span>}
      <span data-testid="status-model">{describe(runtime, t)}</span>
      {runtime?.memoryBytes === null || runtime?.memoryBytes === undefined ? null : (
        <>
          <span aria-hidden="true">·</span>
          <span data-testid="status-memory">{formatBytes(runtime.memoryBytes)}</span>
        </>
      )}
    </span>
  );
}
