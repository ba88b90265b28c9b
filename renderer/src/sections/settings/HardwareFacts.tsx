import { useTranslation } from 'react-i18next';
import { formatBytes } from '../../format.ts';
import { useRuntime } from '../../stores/runtime.ts';

export function HardwareFacts() {
  const { t } = useTranslation();
  const hardware = useRuntime((state) => state.runtime?.hardware ?? null);
  if (hardware === null) return <p className="muted">{t('runtime.hardwareUnknown')}</p>;
  return (
    <dl className="facts" data-testid="hardware">
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.backend')}</dt>
        <dd className="facts__value" data-testid="hardware-backend">
          {t(`runtime.backends.${hardware.backend}`)}
        </dd>
      </div>
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.binaries')}</dt>
        <dd className="facts__value" data-testid="hardware-binaries">
          {hardware.backendSource?.kind === 'pack'
            ? t('runtime.fromPack', { bundle: hardware.backendSource.bundleId, version: hardware.backendSource.bundleVersion })
            : t('runtime.builtIn')}
          {(hardware.backendNotices ?? []).map((notice) => (
            <p key={notice} className="muted" data-testid="hardware-backend-notice">
              {notice}
            </p>
          ))}
        </dd>
      </div>
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.gpu')}</dt>
        <dd className="facts__value">{hardware.gpuNames.length === 0 ? t('runtime.noGpu') : hardware.gpuNames.join(', ')}</dd>
      </div>
      {hardware.vramTotal > 0 ? (
        <div className="facts__row">
          <dt className="facts__label">{t('runtime.vram')}</dt>
          <dd className="facts__value">{t('runtime.freeOf', { free: formatBytes(hardware.vramFree), total: formatBytes(hardware.vramTotal) })}</dd>
        </div>
      ) : null}
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.ram')}</dt>
        <dd className="facts__value" data-testid="hardware-ram">
          {t('runtime.freeOf', { free: formatBytes(hardware.ramFree), total: formatBytes(hardware.ramTotal) })}
        </dd>
      </div>
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.cores')}</dt>
        <dd className="facts__value" data-testid="hardware-cores">
          {hardware.cpuCores}
        </dd>
      </div>
      <div className="facts__row">
        <dt className="facts__label">{t('runtime.engine')}</dt>
        <dd className="facts__value facts__value--mono">{hardware.llamaCppRelease}</dd>
      </div>
    </dl>
  );
}
