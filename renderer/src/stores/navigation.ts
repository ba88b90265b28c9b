import { create } from 'zustand';

export const SECTIONS = ['chat', 'documents', 'models', 'bundles', 'audit', 'settings', 'about'] as const;
export type Section = (typeof SECTIONS)[number];

interface NavigationState {
  readonly section: Section;
  open(section: Section): void;
}

export const useNavigation = create<NavigationState>()((set) => ({
  section: 'chat',
  open: (section) => set({ section }),
}));
