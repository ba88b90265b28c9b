import { Info, Monitor, Moon, Sun } from 'lucide-react';
import { useId } from 'react';
import { useTranslation } from 'react-i18next';
import { LockNote } from '../components/LockNote.tsx';
import { PolicyStatus } from '../components/PolicyStatus.tsx';
import { useLock } from '../stores/policy.ts';
import { Language, ThemePreference } from '../../../electron/common/contract/schemas.ts';
import { useNavigation } from '../stores/navigation.ts';
import { useSettings } from '../stores/settings.ts';
import { HardwareFacts } from './settings/HardwareFacts.tsx';
import { LocalApiSettings } from './settings/LocalApiSettings.tsx';
import { RuntimeOptions } from './settings/RuntimeOptions.tsx';
import { RuntimeTest } from './settings/RuntimeTest.tsx';

const THEME_ICONS = { system: Monitor, light: Sun, dark: Moon } as const;

export function SettingsSection() {
  const { t } = useTranslation();
  const settings = useSettings((state) => state.settings);
  const error = useSettings((state) => state.error);
  const update = useSettings((state) => state.update);
  const open = useNavigation((state) => state.open);
  const languageId = useId();
  const themeLock = useLock('theme');
  const languageLock = useLock('language');

  return (
    <section className="section">
      <header className="section__header">
        <h1 className="section__title">{t('settings.title')}</h1>
      </header>
      <div className="section__body">
        {error === null ? null : (
          <p className="notice notice--danger" role="alert">
            {t('settings.saveFailed')} {error.message}
          </p>
        )}
        <PolicyStatus />
        <div className="card">
          <h2 className="card__title">{t('settings.appearance')}</h2>
          <fieldset className="field">
            <legend className="field__label">{t('settings.theme')}</legend>
            <div className="segmented" role="radiogroup" aria-label={t('settings.theme')}>
              {ThemePreference.options.map((theme) => {
                const Icon = THEME_ICONS[theme];
                return (
                  <label key={theme} className="segmented__option">
                    <input
                      type="radio"
                      name="theme"
                      value={theme}
                      checked={settings?.theme === theme}
                      disabled={settings === null || themeLock !== null}
                      onChange={() => void update({ theme })}
                    />
                    <Icon size={14} aria-hidden="true" />
                    <span>{t(`settings.themes.${theme}`)}</span>
                  </label>
                );
              })}
            </div>
            <p className="field__hint">{t('settings.themeHint')}</p>
            {themeLock === null ? null : <LockNote path="theme" reason={themeLock} />}
          </fieldset>
          <div className="field">
            <label className="field__label" htmlFor={languageId}>
              {t('settings.language')}
            </label>
            <select
              id={languageId}
              className="select"
              value={settings?.language ?? 'en'}
              disabled={settings === null || languageLock !== null}
              onChange={(event) => void update({ language: Language.parse(event.target.value) })}
            >
              {Language.options.map((language) => (
                <option key={language} value={language}>
                  {t(`settings.languages.${language}`)}
                </option>
              ))}
            </select>
            <p className="field__hint">{t('settings.languageHint')}</p>
            {languageLock === null ? null : <LockNote path="language" reason={languageLock} />}
          </div>
        </div>
        <div className="card" data-testid="runtime-settings">
          <h2 className="card__title">{t('runtime.title')}</h2>
          <p className="field__hint">{t('runtime.hint')}</p>
          <h3 className="card__subtitle">{t('runtime.hardware')}</h3>
          <HardwareFacts />
          <RuntimeOptions />
        </div>
        <div className="card">
          <h2 className="card__title">{t('runtime.test')}</h2>
          <p className="field__hint">{t('runtime.testHint')}</p>
          <RuntimeTest />
        </div>
        <LocalApiSettings />
        <button type="button" className="button button--ghost" onClick={() => open('about')}>
          <Info size={16} aria-hidden="true" />
          {t('settings.aboutLink')}
        </button>
      </div>
    </section>
  );
}
