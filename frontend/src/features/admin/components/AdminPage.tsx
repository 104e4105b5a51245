import { useRef, type KeyboardEvent } from 'react';
import { useSearchParams } from 'react-router';
import { cn } from '@/lib/cn';
import { AlbumsTab } from './AlbumsTab';
import { FolderImport } from './FolderImport';
import { SongsTab } from './SongsTab';

const tabs = [
  { id: 'albums', label: 'Albums' },
  { id: 'songs', label: 'Songs' },
  { id: 'import', label: 'Add from files' },
] as const;

type TabId = (typeof tabs)[number]['id'];

export function AdminPage() {
  const [params, setParams] = useSearchParams();
  const current: TabId = tabs.find((t) => t.id === params.get('tab'))?.id ?? 'albums';
  const refs = useRef<Record<string, HTMLButtonElement | null>>({});

  const select = (id: TabId) => {
    const next = new URLSearchParams(params);
    next.set('tab', id);
    setParams(next, { replace: true });
  };

  const onKeyDown = (e: KeyboardEvent) => {
    const i = tabs.findIndex((t) => t.id === current);
    const delta = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
    if (!delta) return;
    e.preventDefault();
    const target = tabs[(i + delta + tabs.length) % tabs.length];
    if (target) {
      select(target.id);
      refs.current[target.id]?.focus();
    }
  };

  return (
    <div className="flex flex-col gap-6">
      <header>
        <h1 className="text-3xl font-bold">Dashboard</h1>
        <p className="mt-1 text-fg-muted">Manage the catalogue.</p>
      </header>
      <div role="tablist" aria-label="Catalogue" className="flex gap-2 border-b border-white/10" onKeyDown={onKeyDown}>
        {tabs.map((t) => (
          <button
            key={t.id}
            ref={(el) => {
              refs.current[t.id] = el;
            }}
            type="button"
            role="tab"
            id={`tab-${t.id}`}
            aria-selected={current === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={current === t.id ? 0 : -1}
            onClick={() => select(t.id)}
            data-testid={`admin-tab-${t.id}`}
            className={cn(
              '-mb-px border-b-2 px-4 py-2 text-sm font-semibold focus-ring',
              current === t.id ? 'border-accent text-fg' : 'border-transparent text-fg-muted hover:text-fg',
            )}
          >
            {t.label}
          </button>
        ))}
      </div>
      <div role="tabpanel" id={`panel-${current}`} aria-labelledby={`tab-${current}`}>
        {current === 'albums' ? <AlbumsTab /> : current === 'songs' ? <SongsTab /> : <FolderImport />}
      </div>
    </div>
  );
}
