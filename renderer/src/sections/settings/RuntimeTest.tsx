import { FileUp, Play, Square, X } from 'lucide-react';
import { useEffect, useId, useState, type KeyboardEvent } from 'react';
import { useTranslation } from 'react-i18next';
import { formatBytes } from '../../format.ts';
import { liveTokensPerSecond, useRuntime } from '../../stores/runtime.ts';
import './RuntimeTest.css';

function ErrorNote({ message, details }: { message: string; details?: string | undefined }) {
  const { t } = useTranslation();
  return (
    <div className="notice notice--danger" role="alert">
      <p>{message}</p>
      {details === undefined ? null : (
        <details>
          <summary>{t('common.details')}</summary>
          <code>{details}</code>
        </details>
      )}
    </div>
  );
}

/** Re-renders every 250 ms while tokens stream, so the live rate keeps moving. */
function useTicker(active: boolean): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => setNow(performance.now()), 250);
    return () => clearInterval(timer);
  }, [active]);
  return now;
}

export function RuntimeTest() {
  const { t } = useTranslation();
  const promptId = useId();
  const picked = useRuntime((state) => state.picked);
  const pickError = useRuntime((state) => state.pickError);
  const load = useRuntime((state) => state.load);
  const generation = useRuntime((state) => state.generation);
  const runtimeModel = useRuntime((state) => state.runtime?.model ?? null);
  const prompt = useRuntime((state) => state.prompt);
  const { pick, loadPicked, cancelLoad, unload, generate, stop, setPrompt } = useRuntime.getState();
  const running = generation.phase === 'running';
  const now = useTicker(running);
  const canGenerate = runtimeModel !== null && prompt.trim() !== '' && !running && load.phase !== 'loading';

  const onPromptKey = (event: KeyboardEvent<HTMLTextAreaElement>) => {
    if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && canGenerate) {
      event.preventDefault();
      void generate(prompt);
    }
  };

  const rate =
    generation.phase === 'running' && generation.tokens === 0
      ? t('runtime.waiting')
      : generation.phase === 'running'
        ? t('runtime.liveRate', { tokens: generation.tokens, rate: liveTokensPerSecond(generation.tokens, generation.firstTokenAt, now).toFixed(1) })
        : generation.phase === 'done'
          ? generation.stats.stopReason === 'aborted'
            ? t('runtime.stopped', { tokens: generation.stats.tokens })
            : t('runtime.doneRate', {
                tokens: generation.stats.tokens,
                seconds: (generation.stats.ms / 1000).toFixed(2),
                rate: generation.stats.tokensPerSecond.toFixed(1),
              })
          : null;

  return (
    <div className="runtime-test" data-testid="runtime-test">
      <div className="runtime-test__file">
        <button type="button" className="button" onClick={() => void pick()} disabled={load.phase === 'loading'}>
          <FileUp size={14} aria-hidden="true" />
          {t('runtime.chooseFile')}
        </button>
        <span className="runtime-test__name" data-testid="picked-file" title={picked?.name}>
          {picked === null ? t('runtime.noFile') : `${picked.name} · ${formatBytes(picked.sizeBytes)}`}
        </span>
        {load.phase === 'loading' ? (
          <button type="button" className="button" onClick={cancelLoad}>
            <X size={14} aria-hidden="true" />
            {t('runtime.cancel')}
          </button>
        ) : (
          <button type="button" className="button button--primary" disabled={picked === null} onClick={() => void loadPicked()}>
            {t('runtime.load')}
          </button>
        )}
        {runtimeModel === null ? null : (
          <button type="button" className="button button--ghost" onClick={() => void unload()} disabled={running}>
            {t('runtime.unload')}
          </button>
        )}
      </div>
      {pickError === null ? null : <ErrorNote message={pickError.message} details={pickError.details} />}
      {load.phase === 'loading' ? (
        <div className="progress-row">
          <progress className="progress" max={1} value={load.progress} aria-label={t('runtime.loading', { percent: Math.round(load.progress * 100) })} />
          <span className="muted">{t('runtime.loading', { percent: Math.round(load.progress * 100) })}</span>
        </div>
      ) : null}
      {load.phase === 'failed' ? <ErrorNote message={load.error.message} details={load.error.details} /> : null}
      {runtimeModel === null ? null : (
        <p className="muted" data-testid="loaded-model">
          {t('runtime.loaded', {
            name: runtimeModel.name,
            contextSize: runtimeModel.contextSize,
            layers: runtimeModel.gpuLayers,
            threads: runtimeModel.threads,
          })}
        </p>
      )}
      <div className="field">
        <label className="field__label" htmlFor={promptId}>
          {t('runtime.prompt')}
        </label>
        <textarea
          id={promptId}
          className="textarea"
          rows={3}
          placeholder={t('runtime.promptPlaceholder')}
          value={prompt}
          onChange={(event) => setPrompt(event.target.value)}
          onKeyDown={onPromptKey}
          aria-describedby={`${promptId}-hint`}
        />
        <p className="field__hint" id={`${promptId}-hint`}>
          {t('runtime.sendHint')}
        </p>
      </div>
      <div className="form-actions">
        {running ? (
          <button type="button" className="button" onClick={stop}>
            <Square size={14} aria-hidden="true" />
            {t('runtime.stop')}
          </button>
        ) : (
          <button type="button" className="button button--primary" disabled={!canGenerate} onClick={() => void generate(prompt)}>
            <Play size={14} aria-hidden="true" />
            {t('runtime.generate')}
          </button>
        )}
        <span className="muted" data-testid="generation-rate" aria-live="polite">
          {rate}
        </span>
      </div>
      {generation.phase === 'idle' ? null : (
        <div className="runtime-test__output" data-testid="generation-output" aria-label={t('runtime.output')} aria-busy={running}>
          {generation.text}
        </div>
      )}
      {generation.phase === 'failed' ? <ErrorNote message={generation.error.message} details={generation.error.details} /> : null}
    </div>
  );
}
