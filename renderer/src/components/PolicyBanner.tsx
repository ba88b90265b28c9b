import { ShieldAlert } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { usePolicy } from '../stores/policy.ts';
import './PolicyBanner.css';

/** A malformed policy fails closed; the app says so everywhere, with what is wrong. */
export function PolicyBanner() {
  const { t } = useTranslation();
  const policy = usePolicy((state) => state.policy);
  if (policy === null || policy.status !== 'invalid') return null;
  return (
    <div className="policy-banner" role="alert" data-testid="policy-banner">
      <ShieldAlert size={16} aria-hidden="true" />
      <div>
        <strong>{t('policy.lockedDown')}</strong> {t('policy.lockedDownBody')}
        <ul className="policy-banner__problems">
          {policy.problems.slice(0, 5).map((problem) => (
            <li key={problem}>{problem}</li>
          ))}
        </ul>
      </div>
    </div>
  );
}
