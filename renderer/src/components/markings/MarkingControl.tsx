import { Tag } from 'lucide-react';
import { useState } from 'react';
import { createPortal } from 'react-dom';
import { useTranslation } from 'react-i18next';
import type { Marking } from '../../../../electron/common/contract/markings.ts';
import { effectiveMarking, formatMarking } from '../../../../electron/common/markings.ts';
import { useMarkingScheme, type MarkingTarget } from '../../stores/markings.ts';
import { languageOf } from './marking-style.ts';
import { MarkingBadge } from './MarkingBadge.tsx';
import { MarkingDialog } from './MarkingDialog.tsx';

interface MarkingControlProps {
  readonly target: MarkingTarget;
  readonly id: string;
  readonly name: string;
  readonly marking: Marking | null | undefined;
  /** A document's collection marking, the lowest it may have. */
  readonly floor?: Marking | null | undefined;
  /** `badge`: the marking itself is the button (a header); `icon`: a small tag button (a table row). */
  readonly variant: 'badge' | 'icon';
  /** For rows of a list that moves focus itself (roving tabindex). */
  readonly tabIndex?: number;
}

/** A marking that can be changed: a button that opens the marking dialog. Nothing without a scheme. */
export function MarkingControl({ target, id, name, marking, floor, variant, tabIndex }: MarkingControlProps) {
  const { t, i18n } = useTranslation();
  const scheme = useMarkingScheme();
  const [open, setOpen] = useState(false);
  if (scheme === null) return null;
  const label = t(`markings.change.${target}`, { name, marking: formatMarking(scheme, effectiveMarking(scheme, marking), languageOf(i18n.language)) });
  return (
    <>
      {variant === 'badge' ? (
        <button
          type="button"
          className="button button--ghost button--small marking-control"
          onClick={() => setOpen(true)}
          title={label}
          data-testid="marking-control"
        >
          {/* Named by what it shows ("Marking Restricted"), then what it does, so the spoken name holds the visible words. */}
          <Tag size={14} aria-hidden="true" />
          {t('markings.label')}
          <MarkingBadge marking={marking} prefix={false} />
          <span className="visually-hidden">{label}</span>
        </button>
      ) : (
        <button
          type="button"
          className="button button--ghost button--icon button--small"
          tabIndex={tabIndex}
          onClick={() => setOpen(true)}
          aria-label={label}
          title={label}
          data-testid="marking-control"
        >
          <Tag size={14} aria-hidden="true" />
        </button>
      )}
      {/* Outside the row's DOM: a table row's arrow keys and Enter must not reach into the dialog's radio buttons. */}
      {createPortal(
        <MarkingDialog open={open} onOpenChange={setOpen} target={target} id={id} name={name} current={marking} {...(floor === undefined ? {} : { floor })} />,
        document.body,
      )}
    </>
  );
}
