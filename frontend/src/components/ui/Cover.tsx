import { useState } from 'react';
import { cn } from '@/lib/cn';

/** Deterministic gradient from a seed string, for albums without a cover. */
function gradientFor(seed: string): string {
  // FNV-1a, then a final avalanche so similar ids get unrelated hues.
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  h = Math.imul(h ^ (h >>> 15), 0x2c1b3c6d) >>> 0;
  const a = h % 360;
  const b = (a + 40 + ((h >>> 9) % 80)) % 360;
  return `linear-gradient(135deg, hsl(${a} 70% 45%), hsl(${b} 65% 22%))`;
}

export interface CoverProps {
  src?: string | null | undefined;
  seed: string;
  alt: string;
  className?: string;
  rounded?: 'md' | 'lg' | 'xl';
}

/** Album art with a gradient placeholder (also used when the image fails). */
export function Cover({ src, seed, alt, className, rounded = 'md' }: CoverProps) {
  const [failed, setFailed] = useState(false);
  const radius = rounded === 'xl' ? 'rounded-xl' : rounded === 'lg' ? 'rounded-lg' : 'rounded-md';
  if (src && !failed) {
    return (
      <img
        src={src}
        alt={alt}
        loading="lazy"
        decoding="async"
        onError={() => setFailed(true)}
        className={cn('aspect-square object-cover bg-surface-3', radius, className)}
      />
    );
  }
  return (
    <div
      role="img"
      aria-label={alt}
      className={cn('aspect-square flex items-center justify-center', radius, className)}
      style={{ backgroundImage: gradientFor(seed) }}
    >
      <svg viewBox="0 0 24 24" className="h-1/3 w-1/3 text-white/40" aria-hidden="true">
        <path d="M9 18V5l12-2v13" fill="none" stroke="currentColor" strokeWidth="1.6" />
        <circle cx="6" cy="18" r="3" fill="currentColor" />
        <circle cx="18" cy="16" r="3" fill="currentColor" />
      </svg>
    </div>
  );
}
