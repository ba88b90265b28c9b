import { Lock, ShieldAlert } from 'lucide-react';
import { useEffect, useId, useState } from 'react';
import { useTranslation } from 'react-i18next';
import type { Marking, MarkingScheme } from '../../../../electron/common/contract/markings.ts';
import type { AppErrorData } from '../../../../electron/common/result.ts';
import { setMarking, useMarkingScheme, type MarkingTarget } from '../../stores/markings.ts';
import { Dialog } from '../Dialog.tsx';
import { MarkingBadge } from './MarkingBadge.tsx';
import { compareLevels, dominates, effectiveMarking, permitted, sameMarking } from '../../../../electron/common/markings.ts';
import { languageOf } from './marking-style.ts';
import './markings.css';

interface MarkingDialogProps {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  readonly target: MarkingTarget;
  readonly id: string;
  /** The collection's or document's name, for the title. */
  readonly name: string;
  readonly current: Marking | null | undefined;
  /** A document's collection marking: the document may not go below it. */
  readonly floor?: Marking | null | undefined;
}

/**
 * Sets a collection's or a document's marking: a level (radio buttons, arrow keys move) and the
 * compartments. Raising is an ordinary change; lowering is an administrator action, said so
 * before it is asked, and kept from being asked where the machine's policy does not allow it.
 * What the services refuse is shown here, beside the choice.
 */
export function MarkingDialog(props: MarkingDialogProps) {
  const scheme = useMarkingScheme();
  const { t } = useTranslation();
  if (scheme === null) return null;
  return (
    <Dialog
      open={props.open}
      onOpenChange={props.onOpenChange}
      title={t(`markings.dialogTitle.${props.target}`, { name: props.name })}
      description={t('markings.dialogHint')}
    >
      <MarkingForm {...props} scheme={scheme} />
    </Dialog>
  );
}

function MarkingForm({ scheme, target, id, current, floor, onOpenChange }: MarkingDialogProps & { readonly scheme: MarkingScheme }) {
  const { t, i18n } = useTranslation();
  const formId = useId();
  const from = effectiveMarking(scheme, current);
  const [level, setLevel] = useState(from.level);
  const [compartments, setCompartments] = useState<readonly string[]>(from.compartments);
  const [error, setError] = useState<AppErrorData | null>(null);
  const [saving, setSaving] = useState(false);
  useEffect(() => setError(null), [level, compartments]);

  const chosen: Marking = { level, compartments: [...compartments].sort() };
  const lowest = floor === undefined ? null : effectiveMarking(scheme, floor);
  // Lowering: the new marking does not cover the old one (a lower level, or a compartment taken away).
  const lowering = !dominates(scheme, chosen, from);
  const refusedHere = lowering && !scheme.allowLowering;
  const unchanged = sameMarking(chosen, from);
  const language = languageOf(i18n.language);

  return (
    <form
      className="dialog__body"
      onSubmit={(event) => {
        event.preventDefault();
        if (refusedHere || unchanged || saving) return;
        setSaving(true);
        void setMarking(target, id, chosen).then((refusal) => {
          setSaving(false);
          if (refusal === null) onOpenChange(false);
          else setError(refusal);
        });
      }}
    >
      <fieldset className="marking-dialog__levels">
        <legend>{t('markings.level')}</legend>
        {scheme.levels.map((entry) => {
          const belowFloor = lowest !== null && compareLevels(scheme, entry.id, lowest.level) < 0;
          const above = !permitted(scheme, { level: entry.id, compartments: [] });
          const inputId = `${formId}-${entry.id}`;
          return (
            <label
              key={entry.id}
              htmlFor={inputId}
              className={belowFloor ? 'marking-dialog__option marking-dialog__option--disabled' : 'marking-dialog__option'}
            >
              <input
                id={inputId}
                type="radio"
                name={`${formId}-level`}
                value={entry.id}
                checked={level === entry.id}
                disabled={belowFloor}
                onChange={() => setLevel(entry.id)}
              />
              <MarkingBadge marking={{ level: entry.id, compartments: [] }} testId="marking-option" />
              {entry.id === from.level ? <span className="muted">{t('markings.currentLevel')}</span> : null}
              {belowFloor ? <span className="muted">{t('markings.belowCollection')}</span> : null}
              {above ? <span className="muted">{t('markings.aboveSystemHigh')}</span> : null}
            </label>
          );
        })}
      </fieldset>
      {scheme.compartments.length === 0 ? null : (
        <fieldset className="marking-dialog__compartments">
          <legend>{t('markings.compartments')}</legend>
          {scheme.compartments.map((entry) => {
            const inputId = `${formId}-c-${entry.id}`;
            const checked = compartments.includes(entry.id);
            // A document keeps its collection's compartments.
            const required = lowest?.compartments.includes(entry.id) ?? false;
            return (
              <label key={entry.id} htmlFor={inputId} className="marking-dialog__option">
                <input
                  id={inputId}
                  type="checkbox"
                  checked={checked}
                  disabled={required && checked}
                  onChange={(event) => setCompartments(event.target.checked ? [...compartments, entry.id] : compartments.filter((other) => other !== entry.id))}
                />
                {entry.names[language]}
                {scheme.grantedCompartments.includes(entry.id) ? null : <span className="muted">{t('markings.notGranted')}</span>}
              </label>
            );
          })}
        </fieldset>
      )}
      {lowering ? (
        <p className="notice notice--warning marking-dialog__note" role="note" data-testid="marking-lowering">
          <ShieldAlert size={16} aria-hidden="true" />
          <span>{t('markings.loweringNote')}</span>
        </p>
      ) : null}
      {refusedHere ? (
        <p className="field__lock" data-testid="marking-lowering-locked">
          <Lock size={12} aria-hidden="true" />
          <span>{t('markings.loweringLocked')}</span>
        </p>
      ) : null}
      {error === null ? null : (
        <p className="notice notice--danger" role="alert" data-testid="marking-error">
          {error.message}
        </p>
      )}
      <div className="dialog__actions">
        <button type="button" className="button" onClick={() => onOpenChange(false)}>
          {t('common.cancel')}
        </button>
        <button type="submit" className={lowering ? 'button button--danger' : 'button button--primary'} disabled={refusedHere || unchanged || saving}>
          {lowering ? t('markings.lower') : t('markings.save')}
        </button>
      </div>
    </form>
  );
}
