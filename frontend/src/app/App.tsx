import { RouterProvider } from 'react-router';
import { Toaster } from '@/components/ui';
import { router } from './router';
import { startSession } from './session-wiring';

startSession();

export function App() {
  return (
    <>
      <RouterProvider router={router} />
      <Toaster />
    </>
  );
}
