import * as Tooltip from '@radix-ui/react-tooltip';
import { useEffect, useState } from 'react';
import { useTranslation } from 'react-i18next';
import { ResizeHandle } from './components/ResizeHandle.tsx';
import { NAV_ITEMS, Sidebar } from './components/Sidebar.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { AboutSection } from './sections/AboutSection.tsx';
import { ModelsSection } from './sections/models/ModelsSection.tsx';
import { ChatSection } from './sections/chat/ChatSection.tsx';
import { DocumentViewer } from './components/DocumentViewer.tsx';
import { AuditSection } from './sections/audit/AuditSection.tsx';
import { BundlesSection } from './sections/bundles/BundlesSection.tsx';
import { DocumentsSection } from './sections/documents/DocumentsSection.tsx';
import { SettingsSection } from './sections/SettingsSection.tsx';
import { useNavigation, type Section } from './stores/navigation.ts';
import { followChatChanges } from './stores/chat.ts';
import { followKnowledgeChanges } from './stores/knowledge.ts';
import { followBundleChanges } from './stores/bundles.ts';
import { usePolicy } from './stores/policy.ts';
import { PolicyBanner } from './components/PolicyBanner.tsx';
import { AuditBanner } from './components/AuditBanner.tsx';
import { MarkingBanner } from './components/markings/MarkingBanner.tsx';
import { onCallError } from './api/client.ts';
import { useAudit } from './stores/audit.ts';
import { followModelChanges } from './stores/models.ts';
import { followRuntimeChanges, useRuntime } from './stores/runtime.ts';
import { followSettingsChanges, useSettings } from './stores/settings.ts';
import { useTheme } from './theme.ts';

const SECTION_VIEWS: Readonly<Record<Section, () => React.JSX.Element>> = {
  chat: ChatSection,
  documents: DocumentsSection,
  bundles: BundlesSection,
  audit: AuditSection,
  models: ModelsSection,
  settings: SettingsSection,
  about: AboutSection,
};

const SIDEBAR_MIN = 160;
const SIDEBAR_MAX = 480;
const SIDEBAR_DEFAULT = 232;

/** Ctrl/Cmd+1…5 open the sections, wherever the focus is. */
function useSectionShortcuts(open: (section: Section) => void): void {
  useEffect(() => {
    const onKeyDown = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey || event.shiftKey) return;
      const item = NAV_ITEMS.find((candidate) => candidate.shortcut === event.key);
      if (item === undefined) return;
      event.preventDefault();
      open(item.section);
    };
    window.addEventListener('keydown', onKeyDown);
    return () => window.removeEventListener('keydown', onKeyDown);
  }, [open]);
}

export function App() {
  const { i18n } = useTranslation();
  const section = useNavigation((state) => state.section);
  const open = useNavigation((state) => state.open);
  const settings = useSettings((state) => state.settings);
  const load = useSettings((state) => state.load);
  const update = useSettings((state) => state.update);
  const [previewWidth, setPreviewWidth] = useState<number | null>(null);

  useEffect(() => {
    void load();
    return followSettingsChanges();
  }, [load]);

  useEffect(() => {
    const unfollowRuntime = followRuntimeChanges();
    const unfollowModels = followModelChanges();
    const unfollowChat = followChatChanges();
    const unfollowKnowledge = followKnowledgeChanges();
    const unfollowBundles = followBundleChanges();
    void useRuntime.getState().refresh();
    void usePolicy.getState().refresh();
    // Whether the audit log records: asked at start, and again whenever an action is refused
    // because it does not, so the shell's banner follows what the services say.
    void useAudit.getState().checkHealth();
    const unfollowRefusals = onCallError((error) => {
      if (error.code === 'audit_unavailable') void useAudit.getState().checkHealth();
    });
    return () => {
      unfollowRefusals();
      unfollowRuntime();
      unfollowModels();
      unfollowKnowledge();
      unfollowBundles();
      unfollowChat();
    };
  }, []);

  // A log that was repaired opens again at the next action; moving between screens looks again.
  useEffect(() => {
    if (useAudit.getState().problem !== null) void useAudit.getState().checkHealth();
  }, [section]);

  useTheme(settings?.theme ?? 'system');
  useSectionShortcuts(open);

  const language = settings?.language ?? 'en';
  useEffect(() => {
    void i18n.changeLanguage(language);
    document.documentElement.lang = language;
  }, [i18n, language]);

  const width = previewWidth ?? settings?.sidebarWidth ?? SIDEBAR_DEFAULT;
  const View = SECTION_VIEWS[section];

  return (
    <Tooltip.Provider delayDuration={300}>
      <div className="shell">
        {/* The system-high marking, above and below everything else in the window (nothing without a marking scheme). */}
        <MarkingBanner edge="top" />
        <PolicyBanner />
        <AuditBanner />
        <div className="shell__main">
          <Sidebar width={width} />
          <ResizeHandle
            value={width}
            min={SIDEBAR_MIN}
            max={SIDEBAR_MAX}
            onPreview={setPreviewWidth}
            onCommit={(next) => {
              setPreviewWidth(null);
              void update({ sidebarWidth: next });
            }}
          />
          <main className="shell__content" data-section={section}>
            <View />
          </main>
        </div>
        <StatusBar />
        <MarkingBanner edge="bottom" />
        <DocumentViewer />
      </div>
    </Tooltip.Provider>
  );
}
