import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ConversationSettings } from '../../../../electron/common/contract/chat.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useChat } from '../../stores/chat.ts';

const NUMBER_FIELDS = ['temperature', 'topP', 'topK', 'minP', 'repeatPenalty', 'maxTokens'] as const;

export function ConversationSettingsDialog({ open, onOpenChange }: { open: boolean; onOpenChange: (open: boolean) => void }) {
  const { t } = useTranslation();
  const id = useId();
  const settings = useChat((state) => state.thread?.conversation.settings ?? null);
  const [draft, setDraft] = useState<Record<string, string>>({});
  useEffect(() => {
    if (settings === null || !open) return;
    setDraft({
      systemPrompt: settings.systemPrompt,
      contextSize: settings.contextSize === 'auto' ? '' : String(settings.contextSize),
      seed: settings.sampling.seed === null ? '' : String(settings.sampling.seed),
      ...Object.fromEntries(NUMBER_FIELDS.map((field) => [field, String(settings.sampling[field])])),
    });
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
          if (parsed.success) void useChat.getState().saveSettings(parsed.data).then((saved) => saved && onOpenChange(false));
        }}
      >
        <div className="field">
          <label className="field__label" htmlFor={`${id}-system`}>
            {t('chat.systemPrompt')}
          </label>
          <textarea id={`${id}-system`} className="textarea" rows={4} value={draft.systemPrompt ?? ''} onChange={(event) => setDraft({ ...draft, systemPrompt: event.target.value })} />
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
