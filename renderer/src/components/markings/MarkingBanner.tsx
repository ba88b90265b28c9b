import { Shield } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { formatMarking, markingText } from '../../../../electron/common/markings.ts';
import { useMarkingScheme } from '../../stores/markings.ts';
import { languageOf, readableColours, systemHigh } from './marking-style.ts';
import './markings.css';

/**
 * The system-high banner, at the top and the bottom of the window: the highest marking this
 * machine may hold, in the policy's colour and the reader's language. Nothing without a scheme.
 * Screen readers hear the top one; the bottom one repeats it for the eye.
 */
export function MarkingBanner({ edge }: { readonly edge: 'top' | 'bottom' }) {
  const { t, i18n } = useTranslation();
  const scheme = useMarkingScheme();
  if (scheme === null) return null;
  const high = systemHigh(scheme);
  const label = formatMarking(scheme, high, languageOf(i18n.language));
  const { background, color } = readableColours(scheme, high);
  return (
    <div
      className={`marking-banner marking-banner--${edge}`}
      data-testid={`marking-banner-${edge}`}
      data-marking={markingText(high)}
      role={edge === 'top' ? 'note' : undefined}
      aria-label={edge === 'top' ? t('markings.bannerLabel', { marking: label }) : undefined}
      aria-hidden={edge === 'bottom' ? true : undefined}
      title={t('markings.bannerTitle', { marking: label })}
      // The policy's colours, known only at run time: set through the CSSOM, which the CSP allows.
      style={{ backgroundColor: background, color }}
    >
      <Shield size={12} aria-hidden="true" />
      <span className="marking-banner__text">{label}</span>
    </div>
  );
}
