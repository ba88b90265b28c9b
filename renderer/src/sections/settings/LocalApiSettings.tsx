import { AlertTriangle, Check, CircleOff, Lock, Radio } from 'lucide-react';
import { useEffect, useId, useMemo, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { TFunction } from 'i18next';
import type { ApiSettings, ApiStatus } from '../../../../electron/common/contract/api.ts';
import { LockNote } from '../../components/LockNote.tsx';
import { followApiChanges, useLocalApi } from '../../stores/local-api.ts';
import { useLock } from '../../stores/policy.ts';
import { useSettings } from '../../stores/settings.ts';
import { ApiTokens } from './ApiTokens.tsx';
import { parseConnection, PORT_MAX, PORT_MIN, type ConnectionError } from './local-api-form.ts';
import './LocalApi.css';

/** The service writes a token's last use at most once a minute; reading it as often is enough. */
const TOKENS_REFRESH_MS = 60_000;

/** What the server is doing, in words, with the addresses to give a script. */
function StatusLine({ status }: { readonly status: ApiStatus | null }) {
  const { t } = useTranslation();
  if (status === null) return <p className="muted api-status">{t('localApi.status.loading')}</p>;
  const Icon = status.state === 'listening' ? Radio : status.state === 'off' ? CircleOff : status.state === 'forbidden' ? Lock : AlertTriangle;
  return (
    <div className={`api-status api-status--${status.state}`} role="status" data-testid="api-status" data-state={status.state}>
      <Icon size={14} aria-hidden="true" className="api-status__icon" />
      <div className="api-status__text">
        {/* A policy's refusal reads like any lock: the word, then the reason. */}
        <span className="api-status__state">{status.state === 'forbidden' ? t('policy.locked') : t(`localApi.status.${status.state}`)}</span>
        {status.state === 'listening' ? (
          <span className="api-status__addresses">
            {status.addresses.map((address) => (
              <code key={address} className="mono" data-testid="api-address">
                {address}
              </code>
            ))}
          </span>
        ) : null}
        {status.state === 'forbidden' ? (
          <span className="api-status__problem">{t('localApi.status.forbidden')}</span>
        ) : status.problem === null ? null : (
          <span className="api-status__problem">{status.problem}</span>
        )}
        {status.unavailable && status.problem === null ? <span className="muted">{t('localApi.status.unavailable')}</span> : null}
      </div>
    </div>
  );
}

/** On/off as a switch (a button with aria-checked): Space and Enter toggle it, as for any button. */
function ServeSwitch({ api }: { readonly api: ApiSettings | null }) {
  const { t } = useTranslation();
  const labelId = useId();
  const update = useSettings((state) => state.update);
  const status = useLocalApi((state) => state.status);
  const lock = useLock('api.enabled');
  const forbidden = status?.state === 'forbidden';
  const on = api?.enabled === true;
  return (
    <div className="field">
      <div className="field__row">
        <button
          type="button"
          role="switch"
          className="switch"
          aria-checked={on}
          aria-labelledby={labelId}
          disabled={api === null || lock !== null || forbidden}
          onClick={() => api !== null && void update({ api: { ...api, enabled: !on } })}
        >
          <span className="switch__thumb" aria-hidden="true" />
        </button>
        <span id={labelId} className="field__label">
          {t('localApi.enable')}
        </span>
      </div>
      {lock === null ? null : <LockNote path="api.enabled" reason={lock} />}
    </div>
  );
}

function connectionMessage(error: ConnectionError, t: TFunction): string {
  if (error.field === 'port') return t('localApi.portInvalid', { min: PORT_MIN, max: PORT_MAX });
  return error.kind === 'tooMany' ? t('localApi.tooManyOrigins', { max: error.max }) : t('localApi.originInvalid', { value: error.value });
}

/** Port and browser origins, saved together: changing either restarts a running server once. */
function ConnectionForm({ api }: { readonly api: ApiSettings }) {
  const { t } = useTranslation();
  const update = useSettings((state) => state.update);
  const portId = useId();
  const originsId = useId();
  const portLock = useLock('api.port');
  const originsLock = useLock('api.allowedOrigins');
  const [port, setPort] = useState(String(api.port));
  const [origins, setOrigins] = useState(api.allowedOrigins.join('\n'));
  const [saved, setSaved] = useState(false);

  // Another window, the command line or a policy may change them: follow, as a fresh draft.
  // (By value: any settings change hands a new array, which must not wipe what is being typed.)
  const storedOrigins = api.allowedOrigins.join('\n');
  useEffect(() => {
    setPort(String(api.port));
    setOrigins(storedOrigins);
  }, [api.port, storedOrigins]);

  const parsed = useMemo(() => parseConnection(port, origins), [port, origins]);
  const errors = parsed.ok ? [] : parsed.errors;
  const portErrors = errors.filter((error) => error.field === 'port');
  const originErrors = errors.filter((error) => error.field === 'origins');
  const dirty = parsed.ok && (parsed.port !== api.port || JSON.stringify(parsed.allowedOrigins) !== JSON.stringify(api.allowedOrigins));

  return (
    <form
      className="api-connection"
      aria-label={t('localApi.connection')}
      onSubmit={(event) => {
        event.preventDefault();
        if (!parsed.ok) return;
        void update({ api: { ...api, port: parsed.port, allowedOrigins: parsed.allowedOrigins } }).then(() => setSaved(true));
      }}
    >
      <div className="field api-connection__port">
        <label className="field__label" htmlFor={portId}>
          {t('localApi.port')}
        </label>
        <input
          id={portId}
          className="input"
          type="number"
          inputMode="numeric"
          min={PORT_MIN}
          max={PORT_MAX}
          step={1}
          value={port}
          disabled={portLock !== null}
          aria-invalid={portErrors.length > 0}
          aria-describedby={`${portId}-hint`}
          onChange={(event) => {
            setSaved(false);
            setPort(event.target.value);
          }}
        />
        {portErrors.map((error) => (
          <p key="port" className="field__error" role="alert">
            {connectionMessage(error, t)}
          </p>
        ))}
        <p className="field__hint" id={`${portId}-hint`}>
          {t('localApi.portHint')}
        </p>
        {portLock === null ? null : <LockNote path="api.port" reason={portLock} />}
      </div>
      <div className="field">
        <label className="field__label" htmlFor={originsId}>
          {t('localApi.origins')}
        </label>
        <textarea
          id={originsId}
          className="textarea api-connection__origins mono"
          rows={3}
          spellCheck={false}
          placeholder="http://localhost:3000"
          value={origins}
          disabled={originsLock !== null}
          aria-invalid={originErrors.length > 0}
          aria-describedby={`${originsId}-hint`}
          onChange={(event) => {
            setSaved(false);
            setOrigins(event.target.value);
          }}
        />
        {originErrors.map((error) => (
          <p key={error.kind === 'origin' ? error.value : error.kind} className="field__error" role="alert">
            {connectionMessage(error, t)}
          </p>
        ))}
        <p className="field__hint" id={`${originsId}-hint`}>
          {t('localApi.originsHint')}
        </p>
        {originsLock === null ? null : <LockNote path="api.allowedOrigins" reason={originsLock} />}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button--primary" disabled={!dirty}>
          {t('localApi.save')}
        </button>
        {saved && !dirty ? (
          <span className="muted form-actions__saved" role="status">
            <Check size={14} aria-hidden="true" />
            {t('localApi.saved')}
          </span>
        ) : null}
      </div>
    </form>
  );
}

/** Settings → Local API: serve or not, where, for which browser pages, and with which tokens. */
export function LocalApiSettings() {
  const { t } = useTranslation();
  const api = useSettings((state) => state.settings?.api ?? null);
  const status = useLocalApi((state) => state.status);
  const error = useLocalApi((state) => state.error);

  useEffect(() => {
    const stop = followApiChanges();
    void useLocalApi.getState().load();
    // The tokens table names the collections a token is limited to.
    void useLocalApi.getState().loadCollections();
    // Nothing announces a token's use, so "Last used" is read again now and then while shown.
    const refresh = window.setInterval(() => void useLocalApi.getState().load(), TOKENS_REFRESH_MS);
    return () => {
      stop();
      window.clearInterval(refresh);
    };
  }, []);

  return (
    <div className="card" data-testid="local-api-settings" role="region" aria-label={t('localApi.title')}>
      <h2 className="card__title">{t('localApi.title')}</h2>
      <p className="field__hint">{t('localApi.hint')}</p>
      {error === null ? null : (
        <p className="notice notice--danger" role="alert">
          {t('localApi.loadFailed')} {error.message}
        </p>
      )}
      <ServeSwitch api={api} />
      <StatusLine status={status} />
      {api === null ? null : <ConnectionForm api={api} />}
      <ApiTokens />
    </div>
  );
}
