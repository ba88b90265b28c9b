import { useTranslation } from 'react-i18next';
import { usePolicy } from '../stores/policy.ts';

/**
 * Development mode, said plainly: without a machine policy nothing is enforced. Also what
 * the policy loader set aside (a bundle policy that did not verify, a user file's attempt
 * to loosen a rule), which would otherwise only be in the audit log.
 */
export function PolicyStatus() {
  const { t } = useTranslation();
  const policy = usePolicy((state) => state.policy);
  if (policy === null || (policy.mode === 'managed' && policy.notes.length === 0)) return null;
  return (
    <div className="notice notice--warning" role="status" data-testid="policy-status">
      {policy.mode === 'development' ? <p>{t('policy.developmentMode')}</p> : null}
      {policy.notes.length === 0 ? null : (
        <ul>
          {policy.notes.slice(0, 5).map((note) => (
            <li key={note}>{note}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
