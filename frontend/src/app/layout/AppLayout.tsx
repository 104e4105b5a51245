import type { ReactNode } from 'react';
import { NavLink, Outlet, useNavigate } from 'react-router';
import { HeartIcon, HomeIcon, LibraryIcon, MusicIcon, QueueIcon, SearchIcon, ShieldIcon, UserIcon } from '@/components/ui';
import { cn } from '@/lib/cn';
import { logout, useAuthStore } from '@/features/auth';
import { AudioEngine, PlayerBar } from '@/features/player';
import { trackActions } from '../playback';

interface NavItem {
  to: string;
  label: string;
  icon: ReactNode;
  end?: boolean;
}

function NavItems({ items, compact }: { items: NavItem[]; compact?: boolean }) {
  return (
    <>
      {items.map((item) => (
        <NavLink
          key={item.to}
          to={item.to}
          end={item.end}
          className={({ isActive }) =>
            cn(
              'flex items-center gap-3 rounded-lg font-semibold transition-colors focus-ring',
              compact ? 'flex-col gap-1 px-2 py-1.5 text-[11px]' : 'px-3 py-2.5 text-sm',
              isActive ? 'bg-white/10 text-fg' : 'text-fg-muted hover:text-fg',
            )
          }
        >
          {item.icon}
          <span>{item.label}</span>
        </NavLink>
      ))}
    </>
  );
}

export function AppLayout() {
  const user = useAuthStore((s) => s.user);
  const navigate = useNavigate();
  const items: NavItem[] = [
    { to: '/', label: 'Home', icon: <HomeIcon />, end: true },
    { to: '/search', label: 'Search', icon: <SearchIcon /> },
    { to: '/favorites', label: 'Favourites', icon: <HeartIcon /> },
    { to: '/playlists', label: 'Playlists', icon: <LibraryIcon /> },
    { to: '/history', label: 'History', icon: <QueueIcon /> },
    { to: '/account', label: 'Account', icon: <UserIcon />, end: false },
    ...(user?.role === 'admin' ? [{ to: '/admin', label: 'Admin', icon: <ShieldIcon /> }] : []),
  ];

  const onLogout = async () => {
    await logout();
    void navigate('/login', { replace: true });
  };

  return (
    <div className="min-h-dvh [--player-h:4.5rem] md:[--player-h:5.5rem]">
      <a href="#main" className="sr-only z-50 rounded bg-accent px-3 py-2 text-black focus:not-sr-only focus:fixed focus:left-2 focus:top-2">
        Skip to content
      </a>

      {/* Sidebar (md and up) */}
      <aside className="fixed inset-y-0 left-0 z-20 hidden w-60 flex-col gap-6 border-r border-white/5 bg-surface-1 px-3 pb-[calc(var(--player-h)+1rem)] pt-6 md:flex">
        <NavLink to="/" className="flex items-center gap-2 px-3 text-xl font-extrabold tracking-tight focus-ring rounded-md">
          <MusicIcon className="text-accent" size={26} /> Cadenza
        </NavLink>
        <nav aria-label="Main" className="flex flex-col gap-1">
          <NavItems items={items} />
        </nav>
        <div className="mt-auto flex flex-col gap-2 px-3">
          <p className="truncate text-xs text-fg-subtle" data-testid="current-user">
            {user?.email}
          </p>
          <button
            type="button"
            onClick={() => void onLogout()}
            className="self-start rounded-full border border-white/15 px-4 py-1.5 text-sm font-semibold text-fg-muted hover:border-white/30 hover:text-fg focus-ring"
            data-testid="logout"
          >
            Log out
          </button>
        </div>
      </aside>

      {/* Top bar (small screens) */}
      <header className="sticky top-0 z-20 flex items-center justify-between border-b border-white/5 bg-surface-0/90 px-4 py-3 backdrop-blur md:hidden">
        <NavLink to="/" className="flex items-center gap-2 rounded-md text-lg font-extrabold focus-ring">
          <MusicIcon className="text-accent" size={22} /> Cadenza
        </NavLink>
        <button
          type="button"
          onClick={() => void onLogout()}
          className="rounded-full border border-white/15 px-3 py-1 text-xs font-semibold text-fg-muted focus-ring"
        >
          Log out
        </button>
      </header>

      <main
        id="main"
        className="px-4 pb-[calc(var(--player-h)+5rem)] pt-6 md:ml-60 md:px-8 md:pb-[calc(var(--player-h)+2rem)]"
      >
        <div className="mx-auto max-w-screen-xl">
          <Outlet />
        </div>
      </main>

      {/* Bottom nav (small screens), above the player bar */}
      <nav
        aria-label="Main"
        className="fixed inset-x-0 bottom-[var(--player-h)] z-30 flex justify-around border-t border-white/5 bg-surface-1/95 py-1 backdrop-blur md:hidden"
      >
        <NavItems items={items} compact />
      </nav>

      <PlayerBar trackActions={trackActions} />
      <AudioEngine />
    </div>
  );
}
