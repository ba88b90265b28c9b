import { Check, Copy } from 'lucide-react';
import { memo, useState, type ReactNode } from 'react';
import { useTranslation } from 'react-i18next';
import ReactMarkdown from 'react-markdown';
import rehypeHighlight from 'rehype-highlight';
import remarkGfm from 'remark-gfm';
import './Markdown.css';

function textOf(node: ReactNode): string {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (node !== null && typeof node === 'object' && 'props' in node) return textOf((node.props as { children?: ReactNode }).children);
  return '';
}

export function CopyButton({ text, label }: { text: string; label: string }) {
  const { t } = useTranslation();
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      className="button button--ghost button--icon button--small"
      aria-label={copied ? t('chat.copied') : label}
      title={copied ? t('chat.copied') : label}
      onClick={() => {
        void navigator.clipboard.writeText(text).then(() => {
          setCopied(true);
          setTimeout(() => setCopied(false), 1500);
        });
      }}
    >
      {copied ? <Check size={14} aria-hidden="true" /> : <Copy size={14} aria-hidden="true" />}
    </button>
  );
}

function CodeBlock({ children }: { children?: ReactNode }) {
  const { t } = useTranslation();
  return (
    <div className="code">
      <div className="code__bar">
        <CopyButton text={textOf(children)} label={t('chat.copyCode')} />
      </div>
      <pre>{children}</pre>
    </div>
  );
}

/**
 * Markdown as React elements: raw HTML in a model's answer is never rendered, links do not
 * navigate (the app denies navigation anyway), and code is highlighted by the bundled highlight.js.
 */
export const Markdown = memo(function Markdown({ text }: { text: string }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={[remarkGfm]}
        rehypePlugins={[[rehypeHighlight, { detect: true, ignoreMissing: true }]]}
        components={{
          pre: CodeBlock,
          a: ({ children, href }) => (
            <span className="markdown__link" title={href}>
              {children}
            </span>
          ),
          img: ({ alt }) => <span className="muted">[{alt}]</span>,
        }}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
});
