export { Button, IconButton } from './Button';
export { Input } from './Input';
export { Modal, ConfirmModal } from './Modal';
export { Spinner, PageSpinner } from './Spinner';
export { Toaster, toast } from './Toast';
export { Cover } from './Cover';
export { ProgressBar } from './ProgressBar';
export * from './icons';
