import { useEffect, useId, useRef, useState, type KeyboardEvent } from 'react';
import { useNavigate, useSearchParams } from 'react-router';
import { usePlayback } from '@/components/tracks';
import { Cover, SearchIcon, Spinner } from '@/components/ui';
import { errorMessage } from '@/lib/api-client';
import { cn } from '@/lib/cn';
import { formatDuration } from '@/lib/format';
import { songToTrack } from '@/lib/track';
import { searchCatalog, type SearchResults } from '../api';
import { useDebouncedValue } from '../hooks/useDebouncedValue';

export const SEARCH_DEBOUNCE_MS = 250;

type Option =
  | { kind: 'album'; key: string; album: SearchResults['albums'][number] }
  | { kind: 'song'; key: string; song: SearchResults['songs'][number]; index: number };

/**
 * A combobox: focus stays in the input while ↑/↓ move the active option
 * (aria-activedescendant) and Enter opens an album or plays a song.
 */
export function SearchPage() {
  const [params, setParams] = useSearchParams();
  const [query, setQuery] = useState(params.get('q') ?? '');
  const debounced = useDebouncedValue(query.trim(), SEARCH_DEBOUNCE_MS);
  const [results, setResults] = useState<SearchResults | null>(null);
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [active, setActive] = useState(-1);
  const navigate = useNavigate();
  const { playQueue, trackActions } = usePlayback();
  const listId = useId();
  const listRef = useRef<HTMLUListElement>(null);
  const setParamsRef = useRef(setParams);
  setParamsRef.current = setParams;

  useEffect(() => {
    setParamsRef.current(debounced ? { q: debounced } : {}, { replace: true });
    if (!debounced) {
      setResults(null);
      setError(null);
      return;
    }
    const ctrl = new AbortController();
    setLoading(true);
    searchCatalog(debounced, ctrl.signal)
      .then((r) => {
        setResults(r);
        setError(null);
        setActive(-1);
      })
      .catch((err: unknown) => {
        if (!ctrl.signal.aborted) setError(errorMessage(err));
      })
      .finally(() => {
        if (!ctrl.signal.aborted) setLoading(false);
      });
    return () => ctrl.abort();
  }, [debounced]);

  const options: Option[] = results
    ? [
        ...results.albums.map((album): Option => ({ kind: 'album', key: `album-${album.id}`, album })),
        ...results.songs.map((song, index): Option => ({ kind: 'song', key: `song-${song.id}`, song, index })),
      ]
    : [];

  const activate = (opt: Option | undefined) => {
    if (!opt || !results) return;
    if (opt.kind === 'album') void navigate(`/album/${opt.album.id}`);
    else playQueue(results.songs.map((s) => songToTrack(s)), opt.index);
  };

  useEffect(() => {
    if (active < 0) return;
    const el = listRef.current?.querySelector(`[data-index="${active}"]`);
    if (el instanceof HTMLElement) el.scrollIntoView({ block: 'nearest' });
  }, [active]);

  const onKeyDown = (e: KeyboardEvent<HTMLInputElement>) => {
    if (options.length === 0) return;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      setActive((a) => (a + 1) % options.length);
    } else if (e.key === 'ArrowUp') {
      e.preventDefault();
      setActive((a) => (a <= 0 ? options.length - 1 : a - 1));
    } else if (e.key === 'Enter' && active >= 0) {
      e.preventDefault();
      activate(options[active]);
    } else if (e.key === 'Escape') {
      setActive(-1);
    }
  };

  const optionId = (i: number) => `${listId}-opt-${i}`;
  const albumCount = results?.albums.length ?? 0;

  return (
    <div className="flex flex-col gap-6">
      <h1 className="sr-only">Search</h1>
      <div className="relative max-w-xl">
        <label htmlFor={`${listId}-input`} className="sr-only">
          Search albums and songs
        </label>
        <SearchIcon className="pointer-events-none absolute left-4 top-1/2 -translate-y-1/2 text-fg-muted" />
        <input
          id={`${listId}-input`}
          type="search"
          role="combobox"
          aria-expanded={options.length > 0}
          aria-controls={listId}
          aria-autocomplete="list"
          aria-activedescendant={active >= 0 ? optionId(active) : undefined}
          autoFocus
          autoComplete="off"
          placeholder="What do you want to listen to?"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
          onKeyDown={onKeyDown}
          data-testid="search-input"
          className="h-12 w-full rounded-full border border-white/10 bg-surface-2 pl-12 pr-12 text-fg placeholder:text-fg-subtle hover:border-white/20 focus-ring"
        />
        {loading && (
          <span className="absolute right-4 top-1/2 -translate-y-1/2 text-fg-muted">
            <Spinner size={18} label="Searching" />
          </span>
        )}
      </div>

      {error && (
        <p role="alert" className="text-red-300">
          {error}
        </p>
      )}
      {results && options.length === 0 && !loading && (
        <p className="text-fg-muted" role="status">
          No results for “{debounced}”.
        </p>
      )}

      <ul id={listId} role="listbox" aria-label="Search results" ref={listRef} className="flex flex-col gap-1" data-testid="search-results">
        {options.map((opt, i) => {
          const heading =
            i === 0 && opt.kind === 'album' ? 'Albums' : (i === albumCount && opt.kind === 'song') ? 'Songs' : null;
          const cover = opt.kind === 'album' ? opt.album.thumbnailUrl : opt.song.imageSrc;
          const seed = opt.kind === 'album' ? opt.album.id : (opt.song.albumId ?? opt.song.id);
          return (
            <li key={opt.key} role="presentation">
              {heading && <p className="mb-1 mt-4 px-2 text-sm font-bold uppercase tracking-wider text-fg-muted" aria-hidden="true">{heading}</p>}
              <div
                id={optionId(i)}
                role="option"
                aria-selected={i === active}
                data-index={i}
                data-testid={`search-result-${opt.kind}`}
                onMouseEnter={() => setActive(i)}
                onClick={() => activate(opt)}
                className={cn('flex cursor-pointer items-center gap-3 rounded-lg px-2 py-2', i === active ? 'bg-white/10 ring-1 ring-accent/60' : 'hover:bg-white/5')}
              >
                <Cover src={cover} seed={seed} alt="" className="h-12 w-12 shrink-0" />
                <div className="min-w-0 flex-1">
                  <p className="truncate font-medium">{opt.kind === 'album' ? opt.album.name : opt.song.title}</p>
                  <p className="truncate text-sm text-fg-muted">
                    {opt.kind === 'album' ? `Album · ${opt.album.artist}` : `Song · ${opt.song.artist}`}
                  </p>
                </div>
                {opt.kind === 'song' && trackActions && (
                  // The row plays its song; its own controls (heart, add to playlist) do not.
                  <div className="flex items-center" onClick={(e) => e.stopPropagation()} onKeyDown={(e) => e.stopPropagation()} role="presentation">
                    {trackActions(songToTrack(opt.song))}
                  </div>
                )}
                {opt.kind === 'song' && <span className="text-sm tabular-nums text-fg-muted">{formatDuration(opt.song.duration)}</span>}
              </div>
            </li>
          );
        })}
      </ul>
      {!results && !loading && !error && (
        <p className="text-fg-muted">Search the catalogue by album, artist or song title. Use ↑ ↓ and Enter to pick a result.</p>
      )}
    </div>
  );
}
