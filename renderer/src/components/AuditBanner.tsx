import { ShieldAlert } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { useAudit } from '../stores/audit.ts';
import { useNavigation } from '../stores/navigation.ts';
import './AuditBanner.css';

/**
 * The audit log fails closed: while it cannot record, every audited action is refused. One
 * line on every screen says so and leads to the Audit screen, which says why and what to do.
 */
export function AuditBanner() {
  const { t } = useTranslation();
  const problem = useAudit((state) => state.problem);
  const section = useNavigation((state) => state.section);
  const open = useNavigation((state) => state.open);
  if (problem === null) return null;
  return (
    <div className="policy-banner audit-banner" role="alert" data-testid="audit-banner">
      <ShieldAlert size={16} aria-hidden="true" />
      <span>
        <strong>{t('audit.notRecording')}</strong> {t('audit.notRecordingShort')}
      </span>
      {section === 'audit' ? null : (
        <button type="button" className="button button--small audit-banner__open" onClick={() => open('audit')}>
          {t('audit.openScreen')}
        </button>
      )}
    </div>
  );
}
