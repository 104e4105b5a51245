import { api } from '@/lib/api-client';

type Message = { message?: string };

export const register = (email: string, password: string) =>
  api.post<Message>('/api/user/register', { email, password }, { auth: false });

export const verifyEmail = (token: string) => api.post<Message>('/api/user/verify-email', { token }, { auth: false });

export const resendVerification = (email: string) =>
  api.post<Message>('/api/user/resend-verification', { email }, { auth: false });

export const forgotPassword = (email: string) =>
  api.post<Message>('/api/user/forgot-password', { email }, { auth: false });

export const validateResetToken = (token: string, signal?: AbortSignal) =>
  api.get<Message>('/api/user/validate-token', { query: { token }, auth: false, signal });

export const setPassword = (token: string, password: string, passwordAgain: string) =>
  api.post<Message>('/api/user/set-password', { token, password, passwordAgain }, { auth: false });

export const changePassword = (currentPassword: string, newPassword: string) =>
  api.post<Message>('/api/user/change-password', { currentPassword, newPassword });
