import { useTranslation } from 'react-i18next';
import type { Passage } from '../../../electron/common/contract/knowledge.ts';

/**
 * Where a passage stands in its document: its heading path (a spreadsheet's sheet name) and,
 * for spreadsheet or CSV rows, the rows it holds, as "Budget · rows 71–84". Nothing when neither is known.
 */
export function PassagePlace({ passage, className }: { readonly passage: Pick<Passage, 'headingPath' | 'rows'>; readonly className: string }) {
  const { t } = useTranslation();
  const rows = passage.rows ?? null;
  const parts = [
    ...(passage.headingPath.length === 0 ? [] : [passage.headingPath.join(' › ')]),
    ...(rows === null ? [] : [rows[0] === rows[1] ? t('documents.row', { row: rows[0] }) : t('documents.rows', { first: rows[0], last: rows[1] })]),
  ];
  if (parts.length === 0) return null;
  return (
    <span className={`muted ${className}`} data-testid="passage-place">
      {parts.join(' · ')}
    </span>
  );
}
