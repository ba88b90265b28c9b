import { useTranslation } from 'react-i18next';

/** Marks a passage recognised by OCR: its words may differ from the page, so the citation says so. */
export function ScanBadge({ confidence }: { readonly confidence: number | null | undefined }) {
  const { t } = useTranslation();
  if (confidence === null || confidence === undefined) return null;
  return (
    <span className="badge badge--scan" data-testid="from-scan" title={t('documents.fromScanTitle', { confidence: Math.round(confidence) })}>
      {t('documents.fromScan')}
    </span>
  );
}
