import type { SVGProps } from 'react';

type IconProps = SVGProps<SVGSVGElement> & { size?: number };

function Icon({ size = 20, children, ...rest }: IconProps) {
  return (
    <svg
      width={size}
      height={size}
      viewBox="0 0 24 24"
      fill="currentColor"
      aria-hidden="true"
      focusable="false"
      {...rest}
    >
      {children}
    </svg>
  );
}

const stroke = { fill: 'none', stroke: 'currentColor', strokeWidth: 2, strokeLinecap: 'round', strokeLinejoin: 'round' } as const;

export const PlayIcon = (p: IconProps) => <Icon {...p}><path d="M8 5.5v13a1 1 0 0 0 1.5.86l10.5-6.5a1 1 0 0 0 0-1.72L9.5 4.64A1 1 0 0 0 8 5.5Z" /></Icon>;
export const PauseIcon = (p: IconProps) => <Icon {...p}><rect x="6" y="5" width="4" height="14" rx="1" /><rect x="14" y="5" width="4" height="14" rx="1" /></Icon>;
export const NextIcon = (p: IconProps) => <Icon {...p}><path d="M5 6.2v11.6a1 1 0 0 0 1.53.85L15 13.1V18a1 1 0 0 0 2 0V6a1 1 0 0 0-2 0v4.9L6.53 5.35A1 1 0 0 0 5 6.2Z" /></Icon>;
export const PrevIcon = (p: IconProps) => <Icon {...p}><path d="M19 6.2v11.6a1 1 0 0 1-1.53.85L9 13.1V18a1 1 0 0 1-2 0V6a1 1 0 0 1 2 0v4.9l8.47-5.55A1 1 0 0 1 19 6.2Z" /></Icon>;
export const ShuffleIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M16 3h5v5M4 20 21 3M21 16v5h-5M15 15l6 6M4 4l5 5" /></g></Icon>;
export const RepeatIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="m17 2 4 4-4 4" /><path d="M3 11v-1a4 4 0 0 1 4-4h14" /><path d="m7 22-4-4 4-4" /><path d="M21 13v1a4 4 0 0 1-4 4H3" /></g></Icon>;
export const RepeatOneIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="m17 2 4 4-4 4" /><path d="M3 11v-1a4 4 0 0 1 4-4h14" /><path d="m7 22-4-4 4-4" /><path d="M21 13v1a4 4 0 0 1-4 4H3" /></g><path d="M10.4 9.2h2.4v6.2h-1.6v-4.6h-0.8z" /></Icon>;
export const VolumeIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M11 5 6 9H2v6h4l5 4V5Z" fill="currentColor" /><path d="M15.54 8.46a5 5 0 0 1 0 7.07M19.07 4.93a10 10 0 0 1 0 14.14" /></g></Icon>;
export const MuteIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M11 5 6 9H2v6h4l5 4V5Z" fill="currentColor" /><path d="m22 9-6 6M16 9l6 6" /></g></Icon>;
export const HeartIcon = ({ filled, ...p }: IconProps & { filled?: boolean }) => (
  <Icon {...p}>
    <path
      d="M12 20.5s-7.5-4.6-9.3-9.1C1.5 8.3 3.4 5 6.7 5c2 0 3.4 1.1 4.3 2.5h2C13.9 6.1 15.3 5 17.3 5c3.3 0 5.2 3.3 4 6.4-1.8 4.5-9.3 9.1-9.3 9.1Z"
      fill={filled ? 'currentColor' : 'none'}
      stroke="currentColor"
      strokeWidth={2}
      strokeLinejoin="round"
    />
  </Icon>
);
/** Loudness normalisation: uneven levels brought to one line. */
export const LoudnessIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M4 9v6M8 5v14M12 8v8M16 10v4M20 7v10" /><path d="M2 12h20" strokeWidth={1} strokeDasharray="2 2" /></g></Icon>;
export const QueueIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M3 6h13M3 12h13M3 18h9" /><path d="M18 15v6l4-3-4-3Z" fill="currentColor" /></g></Icon>;
export const SearchIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><circle cx="11" cy="11" r="7" /><path d="m20 20-3.5-3.5" /></g></Icon>;
export const HomeIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M3 10.5 12 3l9 7.5V20a1 1 0 0 1-1 1h-5v-6H9v6H4a1 1 0 0 1-1-1v-9.5Z" /></g></Icon>;
export const LibraryIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M4 4v16M9 4v16M14 4l5 16" /></g></Icon>;
export const CloseIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M18 6 6 18M6 6l12 12" /></g></Icon>;
export const TrashIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M3 6h18M8 6V4h8v2M6 6l1 14h10l1-14" /></g></Icon>;
export const EditIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M12 20h9M16.5 3.5a2.1 2.1 0 0 1 3 3L7 19l-4 1 1-4 12.5-12.5Z" /></g></Icon>;
export const UserIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><circle cx="12" cy="8" r="4" /><path d="M4 21a8 8 0 0 1 16 0" /></g></Icon>;
export const ShieldIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M12 3 4 6v6c0 5 3.5 8 8 9 4.5-1 8-4 8-9V6l-8-3Z" /></g></Icon>;
export const MusicIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="M9 18V5l12-2v13" /><circle cx="6" cy="18" r="3" /><circle cx="18" cy="16" r="3" /></g></Icon>;
export const ChevronUpIcon = (p: IconProps) => <Icon {...p}><g {...stroke}><path d="m18 15-6-6-6 6" /></g></Icon>;
