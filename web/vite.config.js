import { defineConfig } from 'vite';
import preact from '@preact/preset-vite';

// Built into web/dist; the server's project copies it into its output's wwwroot (see src/Lenta.Server/Web/WebClient.cs).
export default defineConfig({
  plugins: [preact()],
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', target: 'es2022', sourcemap: false, chunkSizeWarningLimit: 700 },
});
