import { KeyRound, Plus } from 'lucide-react';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { ApiTokenInfo } from '../../../../electron/common/contract/api.ts';
import { ConfirmDialog } from '../../components/Dialog.tsx';
import { formatDate } from '../../format.ts';
import { useLocalApi } from '../../stores/local-api.ts';
import { NewTokenDialog } from './NewTokenDialog.tsx';
import { scopeKey, sortTokens, tokenState } from './local-api-form.ts';

/** A day as the other columns write it, and the time, which matters for "last used". */
function lastUse(iso: string, language: string): string {
  const at = Date.parse(iso);
  return Number.isNaN(at) ? '—' : new Intl.DateTimeFormat(language, { dateStyle: 'medium', timeStyle: 'short' }).format(at);
}

function TokenRow({ token, now, onRevoke }: { readonly token: ApiTokenInfo; readonly now: Date; onRevoke(token: ApiTokenInfo): void }) {
  const { t, i18n } = useTranslation();
  const collections = useLocalApi((state) => state.collections);
  const revokeError = useLocalApi((state) => (state.revokeError?.id === token.id ? state.revokeError.error : null));
  const state = tokenState(token, now);
  const collectionNames = token.collections?.map((id) => collections.find((collection) => collection.id === id)?.name ?? id) ?? null;
  return (
    <tr data-token={token.name} data-state={state} className={state === 'active' ? undefined : 'api-token--inactive'}>
      <td>
        <span className="api-token__name" title={token.name}>
          {token.name}
        </span>
        <code className="mono api-token__prefix" title={t('localApi.prefixHint')}>
          {token.prefix}…
        </code>
      </td>
      <td>{token.scopes.map((scope) => t(`localApi.scopes.${scopeKey(scope)}`)).join(', ')}</td>
      <td title={collectionNames?.join('\n')}>
        {collectionNames === null ? t('localApi.allCollections') : t('localApi.collectionsCount', { count: collectionNames.length })}
      </td>
      <td className="nowrap">{formatDate(token.createdAt, i18n.language, 'mediumDate')}</td>
      <td className="nowrap">{token.expiresAt === null ? t('localApi.never') : formatDate(token.expiresAt, i18n.language, 'mediumDate')}</td>
      <td className="nowrap">{token.lastUsedAt === null ? t('localApi.neverUsed') : lastUse(token.lastUsedAt, i18n.language)}</td>
      <td className="nowrap">
        <span className={state === 'active' ? 'badge' : 'badge badge--warning'}>{t(`localApi.states.${state}`)}</span>
      </td>
      <td className="api-token__actions">
        {state === 'revoked' ? null : (
          <button
            type="button"
            className="button button--danger-ghost button--small"
            aria-label={t('localApi.revokeLabel', { name: token.name })}
            onClick={() => onRevoke(token)}
          >
            {t('localApi.revoke')}
          </button>
        )}
        {revokeError === null ? null : (
          <p className="field__error" role="alert">
            {t('localApi.revokeFailed')} {revokeError.message}
          </p>
        )}
      </td>
    </tr>
  );
}

/** The tokens scripts use, newest working ones first; each can be revoked, after a confirmation. */
export function ApiTokens() {
  const { t } = useTranslation();
  const tokens = useLocalApi((state) => state.tokens);
  const revoke = useLocalApi((state) => state.revoke);
  // The policy refuses new tokens where it refuses the API; the status line says why.
  const forbidden = useLocalApi((state) => state.status?.state === 'forbidden');
  const [creating, setCreating] = useState(false);
  const [revoking, setRevoking] = useState<ApiTokenInfo | null>(null);
  const now = new Date();

  return (
    <div className="api-tokens">
      <div className="card__heading">
        <div>
          <h3 className="card__subtitle">{t('localApi.tokens')}</h3>
          <p className="field__hint">{t('localApi.tokensHint')}</p>
        </div>
        <button type="button" className="button" disabled={forbidden} onClick={() => setCreating(true)}>
          <Plus size={16} aria-hidden="true" />
          {t('localApi.newToken')}
        </button>
      </div>
      {tokens === null ? null : tokens.length === 0 ? (
        <div className="api-tokens__empty" data-testid="api-tokens-empty">
          <KeyRound size={20} strokeWidth={1.5} aria-hidden="true" />
          <div>
            <p className="api-tokens__empty-title">{t('localApi.noTokens')}</p>
            <p className="field__hint">{t('localApi.noTokensHint')}</p>
          </div>
        </div>
      ) : (
        <div className="api-tokens__scroll">
          <table className="table api-tokens__table" aria-label={t('localApi.tokens')}>
            <thead>
              <tr>
                <th scope="col">{t('localApi.columns.name')}</th>
                <th scope="col">{t('localApi.columns.scopes')}</th>
                <th scope="col">{t('localApi.columns.collections')}</th>
                <th scope="col">{t('localApi.columns.created')}</th>
                <th scope="col">{t('localApi.columns.expires')}</th>
                <th scope="col">{t('localApi.columns.lastUsed')}</th>
                <th scope="col">{t('localApi.columns.state')}</th>
                <th scope="col">
                  <span className="visually-hidden">{t('localApi.columns.actions')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sortTokens(tokens, now).map((token) => (
                <TokenRow key={token.id} token={token} now={now} onRevoke={setRevoking} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      <NewTokenDialog open={creating} onOpenChange={setCreating} />
      <ConfirmDialog
        open={revoking !== null}
        onOpenChange={(open) => !open && setRevoking(null)}
        title={t('localApi.revokeTitle', { name: revoking?.name ?? '' })}
        body={<p>{t('localApi.revokeBody')}</p>}
        confirm={t('localApi.revoke')}
        danger
        onConfirm={() => revoking !== null && void revoke(revoking.id)}
      />
    </div>
  );
}
