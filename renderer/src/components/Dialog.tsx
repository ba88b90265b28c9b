import { X } from 'lucide-react';
import { useEffect, useId, useRef, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import './Dialog.css';

interface DialogProps {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  readonly title: string;
  readonly description?: string;
  readonly children: ReactNode;
  readonly wide?: boolean;
}

/**
 * The platform's modal <dialog>: the page behind is inert, focus moves in and comes back,
 * Esc closes. Radix's dialog injects a <style> element to lock scrolling, which the strict
 * Content Security Policy (no inline styles) refuses.
 */
export function Dialog({ open, onOpenChange, title, description, children, wide }: DialogProps) {
  const { t } = useTranslation();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const descriptionId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (dialog === null) return;
    if (open && !dialog.open) dialog.showModal();
    else if (!open && dialog.open) dialog.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className={wide === true ? 'dialog dialog--wide' : 'dialog'}
      aria-labelledby={titleId}
      aria-describedby={description === undefined ? undefined : descriptionId}
      onCancel={(event) => {
        event.preventDefault();
        onOpenChange(false);
      }}
      onClose={() => {
        if (open) onOpenChange(false);
      }}
    >
      {open ? (
        <>
          <div className="dialog__header">
            <h2 className="dialog__title" id={titleId}>
              {title}
            </h2>
            <button type="button" className="button button--ghost button--icon" onClick={() => onOpenChange(false)} aria-label={t('common.close')}>
              <X size={16} aria-hidden="true" />
            </button>
          </div>
          {description === undefined ? null : (
            <p className="field__hint" id={descriptionId}>
              {description}
            </p>
          )}
          {children}
        </>
      ) : null}
    </dialog>
  );
}

interface ConfirmProps {
  readonly open: boolean;
  onOpenChange(open: boolean): void;
  readonly title: string;
  readonly body: ReactNode;
  readonly confirm: string;
  readonly danger?: boolean;
  onConfirm(): void;
}

export function ConfirmDialog({ open, onOpenChange, title, body, confirm, danger, onConfirm }: ConfirmProps) {
  const { t } = useTranslation();
  return (
    <Dialog open={open} onOpenChange={onOpenChange} title={title}>
      <div className="dialog__body">{body}</div>
      <div className="dialog__actions">
        <button type="button" className="button" onClick={() => onOpenChange(false)}>
          {t('common.cancel')}
        </button>
        <button
          type="button"
          className={danger === true ? 'button button--danger' : 'button button--primary'}
          onClick={() => {
            onOpenChange(false);
            onConfirm();
          }}
        >
          {confirm}
        </button>
      </div>
    </Dialog>
  );
}
