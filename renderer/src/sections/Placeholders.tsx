import { FileText } from 'lucide-react';
import { useTranslation } from 'react-i18next';
import { EmptyState } from '../components/EmptyState.tsx';
import { useNavigation } from '../stores/navigation.ts';

function SectionHeader({ title }: { readonly title: string }) {
  return (
    <header className="section__header">
      <h1 className="section__title">{title}</h1>
    </header>
  );
}

export function DocumentsSection() {
  const { t } = useTranslation();
  const open = useNavigation((state) => state.open);
  return (
    <section className="section">
      <SectionHeader title={t('documents.title')} />
      <EmptyState icon={FileText} title={t('documents.emptyTitle')} body={t('documents.emptyBody')}>
        <button type="button" className="button button--primary" onClick={() => open('models')}>
          {t('documents.emptyAction')}
        </button>
      </EmptyState>
    </section>
  );
}
