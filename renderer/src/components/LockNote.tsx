import { Lock } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import './LockNote.css';

/** A lock and the reason: a setting the machine policy fixes. Never colour alone. */
export function LockNote({ path, reason }: { readonly path: string; readonly reason: string }) {
  const { t } = useTranslation();
  return (
    <p className="field__lock" data-testid={`lock-${path}`}>
      <Lock size={12} aria-hidden="true" />
      <span>
        {t('policy.locked')} {reason}
      </span>
    </p>
  );
}
