import { CheckCircle2, Pencil, Play, RefreshCw, Square, Star, Trash2, X } from 'lucide-react';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ModelEntry } from '../../../../electron/common/contract/models.ts';
import { ConfirmDialog } from '../../components/Dialog.tsx';
import { formatBytes } from '../../format.ts';
import { useModels } from '../../stores/models.ts';
import { useRuntime } from '../../stores/runtime.ts';
import { fitAdvice } from './fit.ts';
import { LoadSettingsForm } from './LoadSettingsForm.tsx';
import './ModelDetails.css';

function Row({ label, value, mono }: { label: string; value: string; mono?: boolean }) {
  return (
    <div className="facts__row">
      <dt className="facts__label">{label}</dt>
      <dd className={mono === true ? 'facts__value facts__value--mono' : 'facts__value'} title={value}>
        {value}
      </dd>
    </div>
  );
}

function FitSummary({ model }: { model: ModelEntry }) {
  const { t } = useTranslation();
  const fit = useModels((state) => state.fits[model.id]);
  useEffect(() => {
    if (fit === undefined && model.status === 'ok') void useModels.getState().fitFor(model.id);
  }, [fit, model.id, model.status]);
  if (fit === undefined || fit.state === 'loading') return <p className="muted">{t('models.fit.estimating')}</p>;
  if (fit.state === 'error') return <p className="field__error">{fit.error.message}</p>;
  const estimate = fit.fit;
  return (
    <div data-testid="fit-details">
      <dl className="facts">
        <Row
          label={t('models.fit.placement')}
          value={t(`models.fit.placements.${estimate.placement}`, { layers: estimate.gpuLayers, total: estimate.totalLayers })}
        />
        <Row label={t('models.fit.context')} value={estimate.contextSize.toLocaleString()} />
        <Row label={t('models.fit.ram')} value={formatBytes(estimate.ramBytes)} />
        <Row label={t('models.fit.vram')} value={formatBytes(estimate.vramBytes)} />
        <Row label={t('models.fit.speed')} value={t(`models.fit.speeds.${estimate.speedClass}`)} />
      </dl>
      {estimate.fits ? (
        <p className="check-status check-status--pass">
          <CheckCircle2 size={14} aria-hidden="true" />
          {t('models.fit.fits')}
        </p>
      ) : (
        <div className="notice notice--warning" role="status">
          <p>{t('models.fit.tooBig')}</p>
          <ul>
            {fitAdvice(estimate).map((advice) => (
              <li key={advice}>{t(`models.fit.advice.${advice}`)}</li>
            ))}
          </ul>
        </div>
      )}
      {estimate.warnings.map((warning) => (
        <p key={warning} className="muted">
          {warning}
        </p>
      ))}
    </div>
  );
}

function Rename({ model, onDone }: { model: ModelEntry; onDone: () => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [name, setName] = useState(model.displayName);
  return (
    <form
      className="rename"
      onSubmit={(event) => {
        event.preventDefault();
        void useModels
          .getState()
          .rename(model.id, name)
          .then((renamed) => renamed && onDone());
      }}
    >
      <label htmlFor={id} className="visually-hidden">
        {t('models.details.newName')}
      </label>
      <input
        id={id}
        className="input"
        value={name}
        maxLength={200}
        autoFocus
        onChange={(event) => setName(event.target.value)}
        onKeyDown={(event) => {
          if (event.key === 'Escape') {
            event.stopPropagation();
            onDone();
          }
        }}
      />
      <button type="submit" className="button button--primary" disabled={name.trim() === ''}>
        {t('models.details.saveName')}
      </button>
      <button type="button" className="button button--ghost button--icon" onClick={onDone} aria-label={t('common.cancel')}>
        <X size={14} aria-hidden="true" />
      </button>
    </form>
  );
}

export function ModelDetails({ model }: { model: ModelEntry }) {
  const { t } = useTranslation();
  const [renaming, setRenaming] = useState(false);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [confirmLoad, setConfirmLoad] = useState(false);
  const error = useModels((state) => state.errors[model.id] ?? null);
  const busy = useModels((state) => state.busy[model.id] ?? null);
  const progress = useModels((state) => state.progress[model.id] ?? null);
  const fit = useModels((state) => state.fits[model.id]);
  const runtimeModel = useRuntime((state) => state.runtime?.model ?? null);
  const loaded = runtimeModel !== null && model.files.includes(runtimeModel.path);
  const { load, unload, remove, verify, setDefault } = useModels.getState();
  const startLoad = () => {
    if (fit?.state === 'ok' && !fit.fit.fits) setConfirmLoad(true);
    else void load(model.id);
  };

  useEffect(() => setRenaming(false), [model.id]);

  return (
    <aside className="details" aria-label={t('models.details.label', { name: model.displayName })} data-testid="model-details">
      <div className="details__header">
        {renaming ? (
          <Rename model={model} onDone={() => setRenaming(false)} />
        ) : (
          <>
            <h2 className="details__title" title={model.displayName}>
              {model.displayName}
            </h2>
            <button
              type="button"
              className="button button--ghost button--icon"
              onClick={() => setRenaming(true)}
              aria-label={t('models.details.rename')}
              title={t('models.details.rename')}
            >
              <Pencil size={14} aria-hidden="true" />
            </button>
          </>
        )}
      </div>
      <div className="details__actions">
        {loaded ? (
          <button type="button" className="button" onClick={() => void unload()}>
            <Square size={14} aria-hidden="true" />
            {t('models.details.unload')}
          </button>
        ) : (
          <button
            type="button"
            className="button button--primary"
            onClick={startLoad}
            disabled={busy !== null || model.role !== 'chat' || model.status !== 'ok'}
          >
            <Play size={14} aria-hidden="true" />
            {busy === 'loading' ? t('models.details.loading', { percent: Math.round((progress ?? 0) * 100) }) : t('models.details.load')}
          </button>
        )}
        {model.role === 'chat' || model.role === 'embedding' ? (
          <button
            type="button"
            className="button"
            disabled={model.role === 'chat' ? model.isDefaultChat : model.isDefaultEmbedding}
            onClick={() => void setDefault(model.id, model.role === 'chat' ? 'chat' : 'embedding')}
          >
            <Star size={14} aria-hidden="true" />
            {(model.role === 'chat' ? model.isDefaultChat : model.isDefaultEmbedding)
              ? t('models.details.isDefault')
              : t(`models.details.makeDefault.${model.role}`)}
          </button>
        ) : null}
        <button type="button" className="button" onClick={() => void verify(model.id)} disabled={busy !== null}>
          <RefreshCw size={14} aria-hidden="true" />
          {busy === 'verifying' ? t('models.details.verifying', { percent: Math.round((progress ?? 0) * 100) }) : t('models.details.verify')}
        </button>
        <button type="button" className="button button--danger-ghost" onClick={() => setConfirmDelete(true)} disabled={busy !== null}>
          <Trash2 size={14} aria-hidden="true" />
          {t('models.details.delete')}
        </button>
      </div>
      {error === null ? null : (
        <div className="notice notice--danger" role="alert">
          <p>{error.message}</p>
          {error.details === undefined ? null : (
            <details>
              <summary>{t('common.details')}</summary>
              <code>{error.details}</code>
            </details>
          )}
        </div>
      )}
      {busy === 'loading' || busy === 'verifying' ? (
        <progress className="progress" max={1} value={progress ?? 0} aria-label={t('models.details.progress')} />
      ) : null}

      <h3 className="card__subtitle">{t('models.fit.title')}</h3>
      {model.status === 'ok' ? <FitSummary model={model} /> : <p className="muted">{t('models.fit.unavailable')}</p>}

      <h3 className="card__subtitle">{t('models.details.facts')}</h3>
      <dl className="facts" data-testid="model-facts">
        <Row label={t('models.columns.role')} value={t(`models.roles.${model.role}`)} />
        <Row label={t('models.details.architecture')} value={model.facts.architecture} />
        <Row label={t('models.details.parameters')} value={model.facts.parameterCount.toLocaleString()} />
        <Row label={t('models.columns.quantization')} value={model.facts.quantization} />
        <Row label={t('models.columns.context')} value={model.facts.contextLength.toLocaleString()} />
        <Row label={t('models.details.layers')} value={String(model.facts.layerCount)} />
        <Row label={t('models.details.embedding')} value={String(model.facts.embeddingLength)} />
        <Row label={t('models.details.vocabulary')} value={model.facts.vocabularySize === null ? '—' : model.facts.vocabularySize.toLocaleString()} />
        <Row label={t('models.columns.size')} value={formatBytes(model.sizeBytes)} />
        <Row label={t('models.columns.status')} value={t(`models.statuses.${model.status}`)} />
        <Row label={t('models.details.mode')} value={t(`models.import.modes.${model.importMode}`)} />
        <Row label={t('models.details.source')} value={model.sourcePath} mono />
        <Row label={t('models.details.files')} value={model.files.join('\n')} mono />
        <Row label={t('models.details.sha256')} value={model.sha256} mono />
        <Row label={t('models.details.imported')} value={new Date(model.importedAt).toLocaleString()} />
        <Row label={t('models.details.license')} value={model.license ?? t('models.details.none')} />
        <Row label={t('models.details.author')} value={model.provenance?.author ?? model.provenance?.organization ?? t('models.details.none')} />
        <Row label={t('models.details.bundle')} value={model.verifiedByBundle ?? t('models.details.notFromBundle')} />
      </dl>

      <h3 className="card__subtitle">{t('models.details.loadSettings')}</h3>
      <LoadSettingsForm model={model} />

      <h3 className="card__subtitle">{t('models.details.chatTemplate')}</h3>
      {model.chatTemplate === null ? <p className="muted">{t('models.details.noTemplate')}</p> : <pre className="code-block">{model.chatTemplate}</pre>}

      <ConfirmDialog
        open={confirmDelete}
        onOpenChange={setConfirmDelete}
        title={t('models.delete.title', { name: model.displayName })}
        body={<p>{model.importMode === 'reference' ? t('models.delete.reference') : t('models.delete.owned')}</p>}
        confirm={t('models.delete.confirm')}
        danger
        onConfirm={() => void remove(model.id)}
      />
      <ConfirmDialog
        open={confirmLoad}
        onOpenChange={setConfirmLoad}
        title={t('models.fit.confirmTitle')}
        body={
          <>
            <p>{t('models.fit.tooBig')}</p>
            <ul>{fit?.state === 'ok' ? fitAdvice(fit.fit).map((advice) => <li key={advice}>{t(`models.fit.advice.${advice}`)}</li>) : null}</ul>
          </>
        }
        confirm={t('models.fit.loadAnyway')}
        onConfirm={() => void load(model.id)}
      />
    </aside>
  );
}
