import { type Application, defineCommand } from 'keel';

export default [
  defineCommand<Application>({
    name: 'orders:place',
    description: 'Place an order: orders:place <sku> <quantity>',
    arguments: [
      { name: 'sku', required: true, description: 'product SKU' },
      { name: 'quantity', required: true, description: 'how many' },
    ],
    json: true,
    async handle({ app, args, ui }) {
      const quantity = Number(args.quantity);
      if (!Number.isInteger(quantity) || quantity < 1) {
        ui.error(`quantity must be a positive integer, got ${String(args.quantity)}`);
        return 1;
      }
      const order = await app.make('orders').place([{ sku: String(args.sku), quantity }], 'cli');
      ui.output(order, () =>
        ui.success(`order #${order.id} ${order.status}, total ${(order.total / 100).toFixed(2)}`),
      );
      return 0;
    },
  }),
];
