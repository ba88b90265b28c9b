import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
// The design tokens, the base and the shared classes come first; each component's own stylesheet,
// imported beside it through App's tree, follows them in the cascade and may refine them.
import './styles/fonts.css';
import './styles/tokens.css';
import './styles/base.css';
import './styles/shell.css';
import './styles/controls.css';
import './styles/layout.css';
import './styles/feedback.css';
import './styles/table.css';
import './styles/results.css';
import { App } from './App.tsx';
import './i18n/index.ts';

const root = document.getElementById('root');
if (root === null) throw new Error('The page has no #root element.');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
