import type { LucideIcon } from 'lucide-react';
import type { ReactNode } from 'react';
import './EmptyState.css';

interface EmptyStateProps {
  readonly icon: LucideIcon;
  readonly title: string;
  readonly body: string;
  readonly children?: ReactNode;
}

export function EmptyState({ icon: Icon, title, body, children }: EmptyStateProps) {
  return (
    <div className="empty-state">
      <Icon className="empty-state__icon" size={32} strokeWidth={1.5} aria-hidden="true" />
      <h2 className="empty-state__title">{title}</h2>
      <p className="empty-state__body">{body}</p>
      {children === undefined ? null : <div className="empty-state__actions">{children}</div>}
    </div>
  );
}
