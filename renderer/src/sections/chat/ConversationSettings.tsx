import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConversationSettings, type ChatPreset } from '../../../../electron/common/contract/chat.ts';
import { call } from '../../api/client.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useChat } from '../../stores/chat.ts';
import { chatSelectors } from '../../stores/chat/selectors.ts';

/** Presets: pick one to fill the form; save the form as a new one, or under the picked one's id (renaming it); export or import them as JSON. */
function Presets({ current, apply }: { current: ConversationSettings | null; apply: (settings: ConversationSettings) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const [presets, setPresets] = useState<readonly ChatPreset[]>([]);
  const [chosen, setChosen] = useState('');
  const [name, setName] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const refresh = async () => {
    const result = await call('presets.list', {});
    if (result.ok) setPresets(result.value.presets);
  };
  useEffect(() => {
    void refresh();
  }, []);
  const preset = presets.find((candidate) => candidate.id === chosen) ?? null;
  return (
    <div className="field">
      <label className="field__label" htmlFor={`${id}-preset`}>
        {t('chat.presets.title')}
      </label>
      <div className="field__row">
        <select
          id={`${id}-preset`}
          className="select"
          value={chosen}
          onChange={(event) => {
            setChosen(event.target.value);
            const picked = presets.find((candidate) => candidate.id === event.target.value);
            if (picked !== undefined) {
              apply(picked.settings);
              setName(picked.name);
            }
          }}
        >
          <option value="">{t('chat.presets.none')}</option>
          {presets.map((candidate) => (
            <option key={candidate.id} value={candidate.id}>
              {candidate.name}
            </option>
          ))}
        </select>
        <input
          className="input"
          aria-label={t('chat.presets.name')}
          placeholder={t('chat.presets.name')}
          value={name}
          onChange={(event) => setName(event.target.value)}
        />
        <button
          type="button"
          className="button"
          disabled={current === null || name.trim() === ''}
          onClick={() =>
            void call('presets.save', { ...(preset === null ? {} : { id: preset.id }), name: name.trim(), settings: current! }).then((result) => {
              setMessage(result.ok ? t('chat.presets.saved', { name: result.value.name }) : result.error.message);
              if (result.ok) setChosen(result.value.id);
              void refresh();
            })
          }
        >
          {preset === null ? t('chat.presets.save') : t('chat.presets.update')}
        </button>
      </div>
      <div className="field__row">
        <button
          type="button"
          className="button button--ghost"
          disabled={preset === null}
          onClick={() =>
            void call('presets.export', { id: chosen }).then((result) =>
              setMessage(!result.ok ? result.error.message : result.value.saved ? t('chat.presets.exported') : null),
            )
          }
        >
          {t('chat.presets.export')}
        </button>
        <button
          type="button"
          className="button button--ghost"
          onClick={() =>
            void call('presets.import', {}).then((result) => {
              setMessage(result.ok ? t('chat.presets.imported', { count: result.value.imported.length }) : result.error.message);
              void refresh();
            })
          }
        >
          {t('chat.presets.import')}
        </button>
        <button
          type="button"
          className="button button--danger-ghost"
          disabled={preset === null}
          onClick={() =>
            void call('presets.delete', { id: chosen }).then((result) => {
              if (!result.ok) setMessage(result.error.message);
              else setChosen('');
              void refresh();
            })
          }
        >
          {t('chat.presets.delete')}
        </button>
      </div>
      {message === null ? null : (
        <p className="field__hint" role="status">
          {message}
        </p>
      )}
    </div>
  );
}

const NUMBER_FIELDS = ['temperature', 'topP', 'topK', 'minP', 'repeatPenalty', 'maxTokens'] as const;

export function ConversationSettingsDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const settings = useChat(chatSelectors.conversationSettings);
  const [draft, setDraft] = useState<Record<string, string>>({});
  const fill = (from: ConversationSettings) =>
    setDraft({
      systemPrompt: from.systemPrompt,
      contextSize: from.contextSize === 'auto' ? '' : String(from.contextSize),
      seed: from.sampling.seed === null ? '' : String(from.sampling.seed),
      ...Object.fromEntries(NUMBER_FIELDS.map((field) => [field, String(from.sampling[field])])),
    });
  useEffect(() => {
    if (settings !== null && open) fill(settings);
  }, [settings, open]);
  const candidate = {
    systemPrompt: draft.systemPrompt ?? '',
    contextSize: (draft.contextSize ?? '') === '' ? 'auto' : Number(draft.contextSize),
    sampling: {
      ...Object.fromEntries(NUMBER_FIELDS.map((field) => [field, Number(draft[field])])),
      seed: (draft.seed ?? '') === '' ? null : Number(draft.seed),
    },
  };
  const parsed = ConversationSettings.safeParse(candidate);
  const bad = new Set(parsed.success ? [] : parsed.error.issues.map((issue) => String(issue.path.at(-1))));
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={t('chat.settingsTitle')} description={t('chat.settingsHint')} wide>
      <form
        className="dialog__body"
        onSubmit={(event) => {
          event.preventDefault();
          if (parsed.success)
            void useChat
              .getState()
              .saveSettings(parsed.data)
              .then((saved) => saved && onOpenChange(false));
        }}
      >
        <Presets current={parsed.success ? parsed.data : null} apply={fill} />
        <div className="field">
          <label className="field__label" htmlFor={`${id}-system`}>
            {t('chat.systemPrompt')}
          </label>
          <textarea
            id={`${id}-system`}
            className="textarea"
            rows={4}
            value={draft.systemPrompt ?? ''}
            onChange={(event) => setDraft({ ...draft, systemPrompt: event.target.value })}
          />
        </div>
        <div className="form-grid form-grid--narrow">
          {[...NUMBER_FIELDS, 'seed', 'contextSize'].map((field) => (
            <div className="field" key={field}>
              <label className="field__label" htmlFor={`${id}-${field}`}>
                {t(`chat.fields.${field}`)}
              </label>
              <input
                id={`${id}-${field}`}
                className="input"
                inputMode="decimal"
                value={draft[field] ?? ''}
                placeholder={field === 'seed' ? t('chat.random') : field === 'contextSize' ? t('runtime.auto') : ''}
                aria-invalid={bad.has(field)}
                onChange={(event) => setDraft({ ...draft, [field]: event.target.value })}
              />
              {bad.has(field) ? (
                <p className="field__error" role="alert">
                  {t('chat.invalidField')}
                </p>
              ) : null}
            </div>
          ))}
        </div>
        <div className="dialog__actions">
          <button type="button" className="button" onClick={() => onOpenChange(false)}>
            {t('common.cancel')}
          </button>
          <button type="submit" className="button button--primary" disabled={!parsed.success}>
            {t('chat.saveSettings')}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
