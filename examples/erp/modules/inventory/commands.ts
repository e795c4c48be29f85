import { type Application, defineCommand } from 'keel';

export default [
  defineCommand<Application>({
    name: 'inventory:levels',
    description: 'Show stock on hand per product',
    json: true,
    handle({ app, ui }) {
      const levels = app.make('inventory').levels();
      ui.output(levels, () => ui.table(levels));
      return 0;
    },
  }),
];
