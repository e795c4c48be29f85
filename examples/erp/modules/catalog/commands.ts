import { type Application, defineCommand } from 'keel';

export default [
  defineCommand<Application>({
    name: 'catalog:list',
    description: 'List the products in the catalog',
    json: true,
    async handle({ app, ui }) {
      const catalog = app.make('catalog');
      const rows = (await catalog.list()).map((p) => ({
        sku: p.sku,
        name: p.name,
        price: (p.price / 100).toFixed(2),
        currency: catalog.currency,
      }));
      ui.output(rows, () => ui.table(rows));
      return 0;
    },
  }),
];
