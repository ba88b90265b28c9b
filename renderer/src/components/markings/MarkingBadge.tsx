import { Shield } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import type { Marking } from '../../../../electron/common/contract/markings.ts';
import { effectiveMarking, formatMarking, markingText } from '../../../../electron/common/markings.ts';
import { useMarkingScheme } from '../../stores/markings.ts';
import { languageOf, readableColours } from './marking-style.ts';
import './markings.css';

/**
 * A marking as a small chip: the policy's colour, a shield and the words, never the colour
 * alone. Nothing when the policy defines no scheme. A null marking is the default level.
 */
export function MarkingBadge({
  marking,
  testId = 'marking-badge',
  prefix = true,
}: {
  readonly marking: Marking | null | undefined;
  readonly testId?: string;
  /** Whether screen readers hear "Marking:" first; off where the words beside it say so. */
  readonly prefix?: boolean;
}) {
  const { t, i18n } = useTranslation();
  const scheme = useMarkingScheme();
  if (scheme === null) return null;
  const shown = effectiveMarking(scheme, marking);
  const label = formatMarking(scheme, shown, languageOf(i18n.language));
  const { background, color } = readableColours(scheme, shown);
  return (
    <span
      className="marking-badge"
      data-testid={testId}
      data-marking={markingText(shown)}
      title={t('markings.badgeTitle', { marking: label })}
      // The colours are the policy's, known only at run time; React sets them through the CSSOM, which the CSP allows.
      style={{ backgroundColor: background, color }}
    >
      <Shield size={10} aria-hidden="true" />
      {prefix ? <span className="visually-hidden">{t('markings.prefix')} </span> : null}
      <span className="marking-badge__text">{label}</span>
    </span>
  );
}
