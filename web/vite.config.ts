// The page is served by scribepod itself (server.static_dir = web/dist):
// index.html at /, content-hashed files under /assets/. `npm run dev`
// proxies the API to a local server so the page can be worked on with HMR.
import { defineConfig } from 'vite';

const backend = process.env.SCRIBEPOD_URL ?? 'http://127.0.0.1:4200';

export default defineConfig({
  base: '/',
  build: { outDir: 'dist', assetsDir: 'assets', target: 'es2022', sourcemap: true },
  server: {
    proxy: {
      '/v1': { target: backend, ws: true },
      '/health': backend,
    },
  },
});
