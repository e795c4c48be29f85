import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { Application, defineCommand, findAppFile } from '../../kernel/index.js';
import { buildApp } from '../app-builder.js';
import { compileApp } from '../compile-app.js';

function posix(path: string): string {
  return path.split(sep).join('/');
}

export const buildCommand = defineCommand<Application>({
  name: 'build',
  description:
    'Compile the app to JavaScript in build/ with its boot artifacts; --bundle emits one server.mjs',
  needs: 'booted',
  scan: true,
  json: true,
  options: [
    {
      flags: '--bundle',
      description: 'also emit build/server.mjs, one file with the app and Keel',
    },
    { flags: '--out <dir>', description: 'output folder (default build)' },
  ],
  async handle({ app, options, ui }) {
    const root = app.paths.root;
    const outDir = join(root, String(options.out ?? 'build'));
    const configFiles: Record<string, string> = {};
    for (const name of await readdir(app.paths.config).catch(() => [] as string[])) {
      if (/\.(?:m?[jt]s)$/.test(name) && !name.endsWith('.d.ts')) {
        configFiles[name.replace(/\.[^.]+$/, '')] = posix(
          relative(root, join(app.paths.config, name)),
        );
      }
    }
    const progress = ui.progress(3, 'build');
    const result = await buildApp({
      root,
      outDir,
      bundle: Boolean(options.bundle),
      appFile: posix(relative(root, findAppFile(root))),
      modules: app.modules.map((m) => ({
        dir: posix(relative(root, m.dir)),
        file: posix(relative(root, m.file)),
      })),
      configFiles,
    });
    progress.tick();
    // Compile the artifacts against the JavaScript mirror, so production boots it as is.
    const built = await Application.create({
      root: outDir,
      environment: 'console',
      env: { APP_ENV: 'development' },
    });
    await built.boot();
    const compiled = await compileApp(built);
    await built.shutdown();
    progress.done();
    const summary = {
      outDir: posix(relative(root, outDir)),
      files: result.files,
      sources: compiled.sources,
      ...(result.bundle
        ? { bundle: posix(relative(root, result.bundle.file)), bundleBytes: result.bundle.bytes }
        : {}),
    };
    ui.output(summary, () => {
      ui.success(`built ${result.files} files into ${summary.outDir}/ with compiled artifacts`);
      if (result.bundle)
        ui.success(`bundled ${summary.bundle} (${(result.bundle.bytes / 1024).toFixed(0)} KiB)`);
      ui.line(ui.dim(`  run in production: cd ${summary.outDir} && APP_ENV=production keel serve`));
    });
    return 0;
  },
});
