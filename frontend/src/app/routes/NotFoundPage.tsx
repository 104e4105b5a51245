import { Link, useRouteError } from 'react-router';

export function NotFoundPage() {
  return (
    <section className="mx-auto flex max-w-md flex-col items-center gap-4 py-20 text-center" data-testid="not-found">
      <p className="text-sm font-semibold uppercase tracking-widest text-fg-subtle">Error 404</p>
      <h1 className="text-3xl font-bold">Page not found</h1>
      <Link to="/" className="rounded-full bg-white/10 px-5 py-2 text-sm font-semibold hover:bg-white/15 focus-ring">
        Back to home
      </Link>
    </section>
  );
}

export function RouteErrorPage() {
  const error = useRouteError();
  const message = error instanceof Error ? error.message : 'Unexpected error';
  return (
    <section role="alert" className="mx-auto flex max-w-md flex-col items-center gap-4 py-20 text-center">
      <h1 className="text-2xl font-bold">Something went wrong</h1>
      <p className="text-fg-muted">{message}</p>
      <a href="/" className="rounded-full bg-white/10 px-5 py-2 text-sm font-semibold hover:bg-white/15 focus-ring">
        Reload
      </a>
    </section>
  );
}
