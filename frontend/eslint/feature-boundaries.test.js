// Unit tests of the feature-boundaries rule (run by vitest with the app's tests).
import path from 'node:path';
import { RuleTester } from 'eslint';
import tseslint from 'typescript-eslint';
import { describe, it } from 'vitest';
import { featureBoundaries } from './feature-boundaries.js';

RuleTester.describe = describe;
RuleTester.it = it;
RuleTester.itOnly = it.only;

const srcDir = path.resolve('/repo/frontend/src');
const file = (rel) => path.join(srcDir, rel);
const options = [{ srcDir }];
// The parser the app is linted with (type imports, TSX).
const tester = new RuleTester({ languageOptions: { parser: tseslint.parser, sourceType: 'module' } });

tester.run('feature-boundaries', featureBoundaries, {
  valid: [
    // A feature's own files, by alias or relative path.
    { filename: file('features/catalog/components/AlbumPage.tsx'), code: "import { getAlbum } from '../api';", options },
    { filename: file('features/catalog/components/AlbumPage.tsx'), code: "import { x } from '@/features/catalog/api';", options },
    // Shared layers and packages.
    { filename: file('features/search/components/SearchPage.tsx'), code: "import { TrackList } from '@/components/tracks';", options },
    { filename: file('features/search/components/SearchPage.tsx'), code: "import { cn } from '../../../lib/cn';", options },
    { filename: file('features/search/components/SearchPage.tsx'), code: "import { useState } from 'react';", options },
    { filename: file('components/tracks/TrackList.tsx'), code: "import type { Track } from '@/types/track';", options },
    // app/ composes features through their index.
    { filename: file('app/router.tsx'), code: "import { AlbumPage } from '@/features/catalog';", options },
    { filename: file('app/router.tsx'), code: "const m = import('@/features/admin');", options },
    // Files outside src/ are not checked.
    { filename: '/repo/frontend/vite.config.ts', code: "import x from './src/features/a/b';", options },
  ],
  invalid: [
    {
      filename: file('features/search/components/SearchPage.tsx'),
      code: "import { usePlayerStore } from '@/features/player';",
      options,
      errors: [{ messageId: 'crossFeature', data: { from: 'search', to: 'player' } }],
    },
    {
      // The same import written as a relative path.
      filename: file('features/search/components/SearchPage.tsx'),
      code: "import { usePlayerStore } from '../../player/stores/player-store';",
      options,
      errors: [{ messageId: 'crossFeature' }],
    },
    {
      filename: file('features/catalog/index.ts'),
      code: "export { FavoriteButton } from '@/features/favorites';",
      options,
      errors: [{ messageId: 'crossFeature' }],
    },
    {
      filename: file('features/catalog/index.ts'),
      code: "export * from '../favorites';",
      options,
      errors: [{ messageId: 'crossFeature' }],
    },
    {
      filename: file('features/catalog/components/AlbumPage.tsx'),
      code: "const p = import('@/features/player');",
      options,
      errors: [{ messageId: 'crossFeature' }],
    },
    {
      filename: file('features/catalog/components/AlbumPage.tsx'),
      code: "import { PlaybackProvider } from '@/app/playback';",
      options,
      errors: [{ messageId: 'featureImportsApp' }],
    },
    {
      filename: file('components/tracks/TrackList.tsx'),
      code: "import { FavoriteButton } from '@/features/favorites';",
      options,
      errors: [{ messageId: 'sharedImportsFeature' }],
    },
    {
      filename: file('lib/track.ts'),
      code: "import { router } from '../app/router';",
      options,
      errors: [{ messageId: 'sharedImportsApp' }],
    },
    {
      filename: file('app/playback.tsx'),
      code: "import { usePlayerStore } from '@/features/player/stores/player-store';",
      options,
      errors: [{ messageId: 'featureInternals' }],
    },
  ],
});
