import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ModelLoadSettings, type ModelEntry } from '../../../../electron/common/contract/models.ts';
import { useModels } from '../../stores/models.ts';

type Draft = { gpuLayers: string; contextSize: string; batchSize: string; flashAttention: '' | 'on' | 'off'; kvCacheType: '' | 'F16' | 'Q8_0' | 'Q4_0' };

function draftOf(settings: ModelLoadSettings | null): Draft {
  const text = (value: number | 'auto' | undefined) => (value === undefined || value === 'auto' ? '' : String(value));
  return {
    gpuLayers: text(settings?.gpuLayers),
    contextSize: text(settings?.contextSize),
    batchSize: text(settings?.batchSize),
    flashAttention: settings?.flashAttention === undefined ? '' : settings.flashAttention ? 'on' : 'off',
    kvCacheType: settings?.kvCacheType ?? '',
  };
}

/** Pure: an empty field means "use the runtime settings". */
export function settingsOf(draft: Draft): { ok: true; settings: ModelLoadSettings | null } | { ok: false; field: string } {
  const candidate: Record<string, unknown> = {};
  for (const field of ['gpuLayers', 'contextSize', 'batchSize'] as const) {
    const value = draft[field].trim();
    if (value === '') continue;
    const number = Number(value);
    if (!Number.isInteger(number)) return { ok: false, field };
    candidate[field] = number;
  }
  if (draft.flashAttention !== '') candidate.flashAttention = draft.flashAttention === 'on';
  if (draft.kvCacheType !== '') candidate.kvCacheType = draft.kvCacheType;
  const parsed = ModelLoadSettings.safeParse(candidate);
  if (!parsed.success) return { ok: false, field: String(parsed.error.issues[0]?.path[0] ?? '') };
  return { ok: true, settings: Object.keys(parsed.data).length === 0 ? null : parsed.data };
}

export function LoadSettingsForm({ model }: { model: ModelEntry }) {
  const { t } = useTranslation();
  const id = useId();
  const [draft, setDraft] = useState(() => draftOf(model.loadSettings));
  const [saved, setSaved] = useState(false);
  useEffect(() => {
    setDraft(draftOf(model.loadSettings));
    setSaved(false);
  }, [model.id, model.loadSettings]);
  const parsed = settingsOf(draft);
  const change = (patch: Partial<Draft>) => {
    setSaved(false);
    setDraft({ ...draft, ...patch });
  };
  const numberField = (field: 'gpuLayers' | 'contextSize' | 'batchSize') => (
    <div className="field" data-field={field}>
      <label className="field__label" htmlFor={`${id}-${field}`}>
        {t(`models.load.${field}`)}
      </label>
      <input
        id={`${id}-${field}`}
        className="input"
        inputMode="numeric"
        placeholder={t('models.load.fromSettings')}
        value={draft[field]}
        aria-invalid={!parsed.ok && parsed.field === field}
        onChange={(event) => change({ [field]: event.target.value })}
      />
      {!parsed.ok && parsed.field === field ? (
        <p className="field__error" role="alert">
          {t('models.load.invalid')}
        </p>
      ) : null}
    </div>
  );
  return (
    <form
      className="runtime-form"
      aria-label={t('models.details.loadSettings')}
      onSubmit={(event) => {
        event.preventDefault();
        if (parsed.ok)
          void useModels
            .getState()
            .setLoadSettings(model.id, parsed.settings)
            .then((ok) => setSaved(ok));
      }}
    >
      <p className="field__hint">{t('models.load.hint')}</p>
      <div className="form-grid form-grid--narrow">
        {numberField('gpuLayers')}
        {numberField('contextSize')}
        {numberField('batchSize')}
        <div className="field">
          <label className="field__label" htmlFor={`${id}-flash`}>
            {t('models.load.flashAttention')}
          </label>
          <select
            id={`${id}-flash`}
            className="select"
            value={draft.flashAttention}
            onChange={(event) => change({ flashAttention: event.target.value as Draft['flashAttention'] })}
          >
            <option value="">{t('models.load.fromSettings')}</option>
            <option value="on">{t('models.load.on')}</option>
            <option value="off">{t('models.load.off')}</option>
          </select>
        </div>
        <div className="field">
          <label className="field__label" htmlFor={`${id}-kv`}>
            {t('models.load.kvCacheType')}
          </label>
          <select
            id={`${id}-kv`}
            className="select"
            value={draft.kvCacheType}
            onChange={(event) => change({ kvCacheType: event.target.value as Draft['kvCacheType'] })}
          >
            <option value="">{t('models.load.fromSettings')}</option>
            <option value="F16">F16</option>
            <option value="Q8_0">Q8_0</option>
            <option value="Q4_0">Q4_0</option>
          </select>
        </div>
      </div>
      <div className="form-actions">
        <button type="submit" className="button" disabled={!parsed.ok}>
          {t('models.load.save')}
        </button>
        {saved ? (
          <span className="muted" role="status">
            {t('models.load.saved')}
          </span>
        ) : null}
      </div>
    </form>
  );
}
