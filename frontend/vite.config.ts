/// <reference types="vitest/config" />
import tailwindcss from '@tailwindcss/vite';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// In `vite dev` the three services are reached directly; in every other
// environment a gateway (nginx / ingress) gives them the same origin.
const services = {
  '/api/user': 'http://127.0.0.1:5000',
  '/api/admin': 'http://127.0.0.1:5001',
  '/api/song': 'http://127.0.0.1:7000',
};

export default defineConfig({
  plugins: [react(), tailwindcss()],
  resolve: {
    alias: { '@': decodeURIComponent(new URL('./src', import.meta.url).pathname) },
  },
  server: {
    host: '127.0.0.1',
    proxy: Object.fromEntries(
      Object.entries(services).map(([prefix, target]) => [prefix, { target, changeOrigin: false }]),
    ),
  },
  build: {
    target: 'es2022',
    // Maps are written for debugging but not referenced from the bundles.
    sourcemap: 'hidden',
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts', 'eslint/**/*.test.js'],
    restoreMocks: true,
    unstubGlobals: true,
  },
});
