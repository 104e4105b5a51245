export type { Track } from '@/types/track';

export type RepeatMode = 'off' | 'all' | 'one';
