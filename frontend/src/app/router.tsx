import { lazy, Suspense } from 'react';
import { createBrowserRouter } from 'react-router';
import { PageSpinner } from '@/components/ui';
import {
  AccountPage,
  ForgotPasswordPage,
  LoginPage,
  logoutAll,
  RegisterPage,
  RequireAuth,
  RequireRole,
  ResendVerificationPage,
  ResetPasswordPage,
  VerifyEmailPage,
} from '@/features/auth';
import { AlbumPage } from '@/features/catalog';
import { FavoritesPage } from '@/features/favorites';
import { HistoryPage } from '@/features/history';
import { PlaylistPage, PlaylistsPage } from '@/features/playlists';
import { SearchPage } from '@/features/search';
import { SessionsPage } from '@/features/sessions';
import { AppLayout } from './layout/AppLayout';
import { PlaybackProvider } from './playback';
import { HomeRoute } from './routes/HomeRoute';
import { NotFoundPage, RouteErrorPage } from './routes/NotFoundPage';

// The dashboard is only for admins: keep it out of the listeners' bundle.
const AdminPage = lazy(() => import('@/features/admin').then((m) => ({ default: m.AdminPage })));

export const router = createBrowserRouter([
  { path: '/login', element: <LoginPage /> },
  { path: '/register', element: <RegisterPage /> },
  { path: '/forgot-password', element: <ForgotPasswordPage /> },
  { path: '/resend-verification', element: <ResendVerificationPage /> },
  // Links in emails (kept from the seed).
  { path: '/verify-email', element: <VerifyEmailPage /> },
  { path: '/password-reset', element: <ResetPasswordPage /> },
  {
    element: (
      <RequireAuth>
        <PlaybackProvider>
          <AppLayout />
        </PlaybackProvider>
      </RequireAuth>
    ),
    errorElement: <RouteErrorPage />,
    children: [
      { index: true, element: <HomeRoute /> },
      { path: 'album/:id', element: <AlbumPage /> },
      { path: 'search', element: <SearchPage /> },
      { path: 'favorites', element: <FavoritesPage /> },
      { path: 'playlists', element: <PlaylistsPage /> },
      { path: 'playlist/:id', element: <PlaylistPage /> },
      { path: 'history', element: <HistoryPage /> },
      { path: 'account', element: <AccountPage /> },
      { path: 'account/sessions', element: <SessionsPage onLogoutAll={logoutAll} /> },
      {
        path: 'admin',
        element: (
          <RequireRole role="admin">
            <Suspense fallback={<PageSpinner />}>
              <AdminPage />
            </Suspense>
          </RequireRole>
        ),
      },
      { path: '*', element: <NotFoundPage /> },
    ],
  },
]);
