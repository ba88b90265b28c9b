import { Check } from 'lucide-react';
import { useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { LockNote } from '../../components/LockNote.tsx';
import { useLock } from '../../stores/policy.ts';
import { useSettings } from '../../stores/settings.ts';
import { AUTO_FIELDS, draftFrom, FIELD_SPECS, parseDraft, SAMPLING_FIELDS, type Draft, type Field, type FieldError } from './runtime-form.ts';

function NumberField({
  field,
  draft,
  error,
  onChange,
  onToggleAuto,
}: {
  field: Field;
  draft: Draft;
  error: FieldError | undefined;
  onChange: (value: string) => void;
  onToggleAuto?: (auto: boolean) => void;
}) {
  const { t } = useTranslation();
  const id = useId();
  const spec = FIELD_SPECS[field];
  const auto = onToggleAuto === undefined ? false : draft.auto[field as keyof Draft['auto']];
  const message = error === undefined ? null : error.kind === 'number' ? t('runtime.invalidNumber') : t('runtime.invalid', { min: error.min, max: error.max });
  const path = (AUTO_FIELDS as readonly string[]).includes(field) ? `runtime.${field}` : `runtime.sampling.${field}`;
  const lock = useLock(path);
  return (
    <div className="field" data-field={field}>
      <label className="field__label" htmlFor={id}>
        {t(`runtime.${field}`)}
      </label>
      <div className="field__row">
        {onToggleAuto === undefined ? null : (
          <label className="checkbox">
            <input
              type="checkbox"
              checked={auto}
              disabled={lock !== null}
              onChange={(event) => onToggleAuto(event.target.checked)}
              aria-label={`${t(`runtime.${field}`)}: ${t('runtime.auto')}`}
            />
            {t('runtime.auto')}
          </label>
        )}
        <input
          id={id}
          className="input"
          type="number"
          inputMode="decimal"
          min={spec.min}
          max={spec.max}
          step={spec.step}
          value={draft.values[field]}
          disabled={auto || lock !== null}
          aria-invalid={message !== null}
          aria-describedby={`${id}-hint`}
          onChange={(event) => onChange(event.target.value)}
        />
      </div>
      {message === null ? null : (
        <p className="field__error" role="alert">
          {message}
        </p>
      )}
      <p className="field__hint" id={`${id}-hint`}>
        {t(`runtime.${field}Hint`)}
      </p>
      {lock === null ? null : <LockNote path={path} reason={lock} />}
    </div>
  );
}

export function RuntimeOptions() {
  const { t } = useTranslation();
  const runtime = useSettings((state) => state.settings?.runtime ?? null);
  const update = useSettings((state) => state.update);
  const [draft, setDraft] = useState<Draft | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (runtime !== null) setDraft(draftFrom(runtime));
  }, [runtime]);

  const parsed = useMemo(() => (draft === null ? null : parseDraft(draft)), [draft]);
  if (draft === null || parsed === null) return null;
  const errors = parsed.ok ? {} : parsed.errors;
  const dirty = parsed.ok && JSON.stringify(parsed.settings) !== JSON.stringify(runtime);

  const setValue = (field: Field, value: string) => {
    setSaved(false);
    setDraft({ ...draft, values: { ...draft.values, [field]: value } });
  };
  const setAuto = (field: keyof Draft['auto'], auto: boolean) => {
    setSaved(false);
    setDraft({ ...draft, auto: { ...draft.auto, [field]: auto } });
  };

  return (
    <form
      className="runtime-form"
      aria-label={t('runtime.title')}
      onSubmit={(event) => {
        event.preventDefault();
        if (!parsed.ok) return;
        void update({ runtime: parsed.settings }).then(() => setSaved(true));
      }}
    >
      <div className="form-grid">
        {AUTO_FIELDS.map((field) => (
          <NumberField
            key={field}
            field={field}
            draft={draft}
            error={errors[field]}
            onChange={(value) => setValue(field, value)}
            onToggleAuto={(auto) => setAuto(field, auto)}
          />
        ))}
      </div>
      <h3 className="card__subtitle">{t('runtime.sampling')}</h3>
      <div className="form-grid">
        {SAMPLING_FIELDS.map((field) => (
          <NumberField key={field} field={field} draft={draft} error={errors[field]} onChange={(value) => setValue(field, value)} />
        ))}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button--primary" disabled={!dirty}>
          {t('runtime.save')}
        </button>
        {saved && !dirty ? (
          <span className="muted form-actions__saved" role="status">
            <Check size={14} aria-hidden="true" />
            {t('runtime.saved')}
          </span>
        ) : null}
      </div>
    </form>
  );
}
