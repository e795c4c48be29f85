import { defineListeners } from 'keel';

export default defineListeners({
  'catalog.product-created': {
    name: 'log-product-created',
    handle: ({ sku }) => {
      process.env.KEEL_ERP_TRACE && console.log(`catalog: created ${sku}`);
    },
  },
});
