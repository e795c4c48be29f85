import { type Application, defineCommand } from 'keel';

export default [
  defineCommand<Application>({
    name: 'inventory:levels',
    description: 'Show stock on hand per product',
    json: true,
    async handle({ app, ui }) {
      const levels = await app.make('inventory').levels();
      ui.output(levels, () => ui.table(levels));
      return 0;
    },
  }),
];
