import { AlertTriangle, Check, Copy } from 'lucide-react';
import { useEffect, useId, useRef, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { API_SCOPES, type ApiScope, type ApiTokenCreated } from '../../../../electron/common/contract/api.ts';
import type { AppErrorData } from '../../../../electron/common/result.ts';
import { Dialog } from '../../components/Dialog.tsx';
import { useLocalApi } from '../../stores/local-api.ts';
import { EMPTY_DRAFT, parseTokenDraft, scopeKey, type Expiry, type TokenDraft, type TokenDraftError } from './local-api-form.ts';

const EXPIRIES: readonly Expiry[] = ['never', '30', '90', 'date'];
const EXPIRY_KEYS: Readonly<Record<Expiry, string>> = { never: 'never', '30': 'days30', '90': 'days90', date: 'onDate' };

/**
 * The desktop app refuses every permission request, which can include the clipboard, so the
 * asynchronous clipboard fails there; copying the selected text still works on a click. When
 * that fails too, the token is left selected for Ctrl+C.
 */
function copyBySelection(input: HTMLInputElement | null): boolean {
  if (input === null) return false;
  input.focus();
  input.select();
  try {
    // Deprecated, yet the one copy that needs no permission.
    return document.execCommand('copy');
  } catch {
    return false;
  }
}

/**
 * The modal <dialog> focuses its first `autofocus` descendant when it opens, after React has
 * mounted the form; React's autoFocus focuses on mount without the attribute, too early.
 */
function markAutofocus(element: HTMLElement | null): void {
  element?.setAttribute('autofocus', '');
}

/** The token, once: a read-only field to select and a Copy button. It is not kept anywhere after the dialog closes. */
function CreatedToken({ created, onDone }: { readonly created: ApiTokenCreated; onDone(): void }) {
  const { t } = useTranslation();
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  const [copy, setCopy] = useState<'idle' | 'copied' | 'failed'>('idle');
  return (
    <div className="dialog__body" data-testid="created-token">
      <p className="notice notice--warning api-created__warning" role="alert">
        <AlertTriangle size={16} aria-hidden="true" />
        <span>{t('localApi.dialog.createdWarning')}</span>
      </p>
      <div className="field">
        <label className="field__label" htmlFor={id}>
          {t('localApi.dialog.tokenLabel', { name: created.info.name })}
        </label>
        <div className="field__row">
          <input ref={input} id={id} className="input mono" readOnly value={created.token} onFocus={(event) => event.target.select()} />
          <button
            type="button"
            className="button"
            // The first thing to do, so it has the focus.
            autoFocus
            onClick={() => {
              navigator.clipboard.writeText(created.token).then(
                () => setCopy('copied'),
                () => setCopy(copyBySelection(input.current) ? 'copied' : 'failed'),
              );
            }}
          >
            {copy === 'copied' ? <Check size={16} aria-hidden="true" /> : <Copy size={16} aria-hidden="true" />}
            {copy === 'copied' ? t('localApi.dialog.copied') : t('localApi.dialog.copy')}
          </button>
        </div>
        {copy === 'failed' ? (
          <p className="field__error" role="alert">
            {t('localApi.dialog.copyFailed')}
          </p>
        ) : null}
      </div>
      <div className="dialog__actions">
        <button type="button" className="button button--primary" onClick={onDone}>
          {t('localApi.dialog.done')}
        </button>
      </div>
    </div>
  );
}

function TokenForm({ onCreated, onCancel }: { onCreated(created: ApiTokenCreated): void; onCancel(): void }) {
  const { t } = useTranslation();
  const nameId = useId();
  const dateId = useId();
  const allowedScopes = useLocalApi((state) => state.status?.allowedScopes ?? null);
  const collections = useLocalApi((state) => state.collections);
  const createToken = useLocalApi((state) => state.createToken);
  const [draft, setDraft] = useState<TokenDraft>(() => ({
    ...EMPTY_DRAFT,
    scopes: EMPTY_DRAFT.scopes.filter((scope) => allowedScopes === null || allowedScopes.includes(scope)),
  }));
  const [shown, setShown] = useState<readonly TokenDraftError[]>([]);
  const [failure, setFailure] = useState<AppErrorData | null>(null);
  const [busy, setBusy] = useState(false);

  const edit = (patch: Partial<TokenDraft>) => {
    setDraft({ ...draft, ...patch });
    setShown([]);
  };
  const toggleScope = (scope: ApiScope, on: boolean) =>
    edit({ scopes: on ? API_SCOPES.filter((candidate) => candidate === scope || draft.scopes.includes(candidate)) : draft.scopes.filter((s) => s !== scope) });
  const toggleCollection = (id: string, on: boolean) => {
    const current = draft.collections ?? [];
    edit({ collections: on ? [...current, id] : current.filter((candidate) => candidate !== id) });
  };
  const error = (kind: TokenDraftError) =>
    shown.includes(kind) ? (
      <p className="field__error" role="alert">
        {t(`localApi.dialog.invalid.${kind}`)}
      </p>
    ) : null;

  return (
    <form
      className="dialog__body api-token-form"
      aria-label={t('localApi.dialog.title')}
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const parsed = parseTokenDraft(draft, new Date());
        if (!parsed.ok) {
          setShown(parsed.errors);
          return;
        }
        setBusy(true);
        setFailure(null);
        void createToken(parsed.request).then((result) => {
          setBusy(false);
          if (result.ok) onCreated(result.value);
          else setFailure(result.error);
        });
      }}
    >
      <div className="field">
        <label className="field__label" htmlFor={nameId}>
          {t('localApi.dialog.name')}
        </label>
        <input
          id={nameId}
          className="input"
          maxLength={100}
          ref={markAutofocus}
          value={draft.name}
          aria-invalid={shown.includes('name')}
          aria-describedby={`${nameId}-hint`}
          onChange={(event) => edit({ name: event.target.value })}
        />
        {error('name')}
        <p className="field__hint" id={`${nameId}-hint`}>
          {t('localApi.dialog.nameHint')}
        </p>
      </div>
      <fieldset className="field">
        <legend className="field__label">{t('localApi.dialog.scopes')}</legend>
        {API_SCOPES.map((scope) => {
          const allowed = allowedScopes === null || allowedScopes.includes(scope);
          return (
            <label key={scope} className="checkbox api-token-form__scope">
              <input
                type="checkbox"
                checked={draft.scopes.includes(scope)}
                disabled={!allowed}
                onChange={(event) => toggleScope(scope, event.target.checked)}
              />
              <span>{t(`localApi.scopes.${scopeKey(scope)}`)}</span>
              <span className="muted">· {allowed ? t(`localApi.scopeHints.${scopeKey(scope)}`) : t('localApi.dialog.scopeNotAllowed')}</span>
            </label>
          );
        })}
        {error('scopes')}
      </fieldset>
      <fieldset className="field">
        <legend className="field__label">{t('localApi.dialog.expiry')}</legend>
        <div className="segmented" role="radiogroup" aria-label={t('localApi.dialog.expiry')}>
          {EXPIRIES.map((expiry) => (
            <label key={expiry} className="segmented__option">
              <input type="radio" name="token-expiry" value={expiry} checked={draft.expiry === expiry} onChange={() => edit({ expiry })} />
              <span>{t(`localApi.dialog.expiries.${EXPIRY_KEYS[expiry]}`)}</span>
            </label>
          ))}
        </div>
        {draft.expiry === 'date' ? (
          <div className="field__row">
            <label htmlFor={dateId}>{t('localApi.dialog.date')}</label>
            <input
              id={dateId}
              className="input api-token-form__date"
              type="date"
              value={draft.date}
              aria-invalid={shown.includes('date')}
              onChange={(event) => edit({ date: event.target.value })}
            />
          </div>
        ) : null}
        {error('date')}
      </fieldset>
      {draft.scopes.includes('knowledge') ? (
        <fieldset className="field">
          <legend className="field__label">{t('localApi.dialog.collections')}</legend>
          <div className="segmented" role="radiogroup" aria-label={t('localApi.dialog.collections')}>
            <label className="segmented__option">
              <input type="radio" name="token-collections" checked={draft.collections === null} onChange={() => edit({ collections: null })} />
              <span>{t('localApi.dialog.collectionsAll')}</span>
            </label>
            <label className="segmented__option">
              <input type="radio" name="token-collections" checked={draft.collections !== null} onChange={() => edit({ collections: [] })} />
              <span>{t('localApi.dialog.collectionsSome')}</span>
            </label>
          </div>
          {draft.collections === null ? null : collections.length === 0 ? (
            <p className="field__hint">{t('localApi.dialog.noCollections')}</p>
          ) : (
            <div className="api-token-form__collections">
              {collections.map((collection) => (
                <label key={collection.id} className="checkbox">
                  <input
                    type="checkbox"
                    checked={draft.collections?.includes(collection.id) === true}
                    onChange={(event) => toggleCollection(collection.id, event.target.checked)}
                  />
                  <span className="api-token-form__collection-name">{collection.name}</span>
                </label>
              ))}
            </div>
          )}
          {error('collections')}
        </fieldset>
      ) : null}
      {failure === null ? null : (
        <p className="notice notice--danger" role="alert">
          {t('localApi.dialog.createFailed')} {failure.message}
        </p>
      )}
      <div className="dialog__actions">
        <button type="button" className="button" onClick={onCancel}>
          {t('common.cancel')}
        </button>
        <button type="submit" className="button button--primary" disabled={busy}>
          {t('localApi.dialog.create')}
        </button>
      </div>
    </form>
  );
}

/** New token: name, scopes, expiry and collections, then the token itself, shown this once. */
export function NewTokenDialog({ open, onOpenChange }: { readonly open: boolean; onOpenChange(open: boolean): void }) {
  const { t } = useTranslation();
  const [created, setCreated] = useState<ApiTokenCreated | null>(null);
  useEffect(() => {
    if (!open) setCreated(null);
    else void useLocalApi.getState().loadCollections();
  }, [open]);
  return (
    <Dialog
      open={open}
      onOpenChange={onOpenChange}
      title={created === null ? t('localApi.dialog.title') : t('localApi.dialog.createdTitle')}
      {...(created === null ? { description: t('localApi.dialog.description') } : {})}
    >
      {created === null ? (
        <TokenForm onCreated={setCreated} onCancel={() => onOpenChange(false)} />
      ) : (
        <CreatedToken created={created} onDone={() => onOpenChange(false)} />
      )}
    </Dialog>
  );
}
