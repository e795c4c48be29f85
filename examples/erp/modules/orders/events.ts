import { type Application, defineListeners } from 'keel';

export default (app: Application) =>
  defineListeners({
    'orders.placed': {
      name: 'log-order',
      handle: ({ orderId, total, needsApproval }) => {
        app.moduleLogger('orders').info({ orderId, total, needsApproval }, 'order placed');
      },
    },
    'inventory.stock-low': {
      name: 'warn-stock-low',
      handle: ({ sku, onHand }) => {
        app.moduleLogger('orders').warn({ sku, onHand }, 'stock running low');
      },
    },
  });
