import type { Application, ModuleHooks } from 'keel';

export default {
  onInstall({ module }) {
    process.env.KEEL_ERP_TRACE && console.log(`installed ${module.name}@${module.version}`);
  },
} satisfies ModuleHooks<Application>;
